using System.Diagnostics;
using System.Text.Json;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Sandbox;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Decoding;

/// <summary>
/// A valid 42 MB PNG of a small real image and a 40 MB tEXt chunk: decoded in real worker processes within the default
/// deadline, scored by the command line, and the text it did not read reported.
/// </summary>
public sealed class LargeTextPngTests(ITestOutputHelper output) : IDisposable
{
    private const int TextBytes = 40 * 1024 * 1024;

    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-large-text-").FullName;

    // The reference photograph at 224x224, as a PNG (a real image, a few hundred kilobytes).
    private static byte[] SmallPng => File.ReadAllBytes(TestAssets.ReferenceFile("photo-chelsea-cat.224.png"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 300_000)]
    public async Task TheSandboxDecodesItWithinTheDefaultDeadlineToTheSamePixelsAsWithoutTheText()
    {
        byte[] plain = SmallPng;
        byte[] large = TestAssets.PngWithTextChunk(plain, "parameters", TextBytes);
        Assert.InRange(large.Length, 42_000_000, 43_000_000);

        // The default deadline (Timeout, TimeoutPerMegabyte, TimeoutPerMegapixel), one worker.
        await using DecodeSandbox sandbox = await DecodeSandboxTests.StartAsync(new PreprocessingOptions().Decoder, o => o.Workers = 1);
        var defaults = new DecodeSandboxOptions();
        PreparedImage reference = await sandbox.PrepareAsync(plain, TestAssets.RawPixels);
        Assert.Null(reference.Error);

        var times = new List<double>();
        for (int round = 0; round < 3; round++)
        {
            long start = Stopwatch.GetTimestamp();
            PreparedImage prepared = await sandbox.PrepareAsync(large, TestAssets.RawPixels);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);

            Assert.True(prepared.Error is null, prepared.Error?.Message);
            Assert.Equal(reference.Tensor, prepared.Tensor);
            Evidence skipped = Assert.Single(prepared.Evidence!, e => e.Signal == EvidenceSignals.Unreadable);
            Assert.Equal($"PNG: tEXt 'parameters' holds {TextBytes} bytes of text, over the 1048576-byte limit: not read", skipped.Detail);
        }

        Assert.Equal(0, sandbox.Restarts);
        long plainStart = Stopwatch.GetTimestamp();
        await sandbox.PrepareAsync(plain, TestAssets.RawPixels);
        double plainMs = Stopwatch.GetElapsedTime(plainStart).TotalMilliseconds;
        output.WriteLine(
            $"{large.Length} bytes: {string.Join(", ", times.Select(t => $"{t:0} ms"))} in the sandbox; the image without its text " +
            $"({plain.Length} bytes) {plainMs:0} ms; default deadline {defaults.DeadlineFor(large.Length, 224, 224).TotalMilliseconds:0} ms");
    }

    [Fact(Timeout = 300_000)]
    public async Task TheCommandLineScoresItAndSaysTheTextWasNotRead()
    {
        string file = Path.Combine(_dir, "cat-with-40mb-text.png");
        await File.WriteAllBytesAsync(file, TestAssets.PngWithTextChunk(SmallPng, "parameters", TextBytes));

        (int exit, string stdout, string stderr) = await CliTests.RunAsync("score", file);

        Assert.True(exit == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout.Trim());
        JsonElement line = doc.RootElement;
        Assert.True(line.GetProperty("error").ValueKind == JsonValueKind.Null, stdout);
        Assert.InRange(line.GetProperty("aiProbability").GetDouble(), 0.0, 1.0);
        Assert.Contains(line.GetProperty("label").GetString(), new[] { "ai", "human", "uncertain" });
        JsonElement skipped = Assert.Single(line.GetProperty("evidence").EnumerateArray(), e => e.GetProperty("signal").GetString() == EvidenceSignals.Unreadable);
        Assert.Contains("not read", skipped.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Replacing decode worker", stderr, StringComparison.Ordinal);
    }
}
