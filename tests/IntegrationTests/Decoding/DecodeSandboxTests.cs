using System.Diagnostics;
using System.Diagnostics.Metrics;
using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using ArtGrid.Imaging.Provenance;
using ArtGrid.Imaging.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.Decoding;

/// <summary>
/// The decode sandbox with real worker processes: files that hang the decoder, workers killed from outside, a memory
/// ceiling, recycling. Hostile files are only ever decoded in workers here, never in the test process.
/// </summary>
public sealed class DecodeSandboxTests
{
    [Fact(Timeout = 120_000)]
    public async Task FilesThatHangTheDecoderAreStoppedAtTheDeadlineAndTheRestOfTheBatchIsScored()
    {
        await using DecodeSandbox sandbox = await StartAsync(DecoderKind.ImageSharp, o =>
        {
            o.Workers = 2;
            // The hanging files never return, so any deadline stops them; 3 s rather than 1 s leaves the ordinary
            // images room on a loaded 2-core machine (one ran past 1.03 s there while the other test classes ran).
            o.Timeout = TimeSpan.FromSeconds(3);
        });
        int[] firstWorkers = [.. sandbox.WorkerProcessIds];
        List<(string Name, byte[] Bytes)> batch = [.. TestAssets.SampleImages.Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))];
        for (int size = 1; size <= 4; size++)
        {
            batch.Insert(size * 2, ($"hangs-imagesharp-{size}.png", TestAssets.InterlacedPalettePng(size)));
        }

        PreparedImage[] results = await Task.WhenAll(batch.Select(b => sandbox.PrepareAsync(b.Bytes, TestAssets.RawPixels)));

        var trusted = new ImagePreprocessor(Options.Create(new PreprocessingOptions { Decoder = DecoderKind.ImageSharp }));
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch[i].Name.StartsWith("hangs-", StringComparison.Ordinal))
            {
                Assert.Equal(ErrorCodes.DecodeTimeout, results[i].Error?.Code);
                Assert.Contains("longer than 3 s", results[i].Error!.Message);
            }
            else
            {
                Assert.Null(results[i].Error);
                Assert.Equal(trusted.Prepare(batch[i].Bytes, TestAssets.RawPixels).Tensor, results[i].Tensor);
            }
        }

        Assert.Equal(4, sandbox.Restarts);
        Assert.All(firstWorkers, pid => Assert.False(IsRunning(pid), $"worker {pid} still runs after its decode was stopped"));

        // A replacement starts in the background once its predecessor is killed: the last may still be warming up.
        await Wait.UntilAsync(() => sandbox.WorkerProcessIds.Count(IsRunning) == 2, TimeSpan.FromSeconds(60), "the two replacement workers did not both start");
    }

    [Fact(Timeout = 120_000)]
    public async Task AWorkerKilledInTheMiddleOfAnImageIsReplacedTheImageTriedAgainAndNothingIsLost()
    {
        await using DecodeSandbox sandbox = await StartAsync(DecoderKind.ImageSharp, o =>
        {
            o.Workers = 1;
            o.Timeout = TimeSpan.FromMinutes(1);
            o.CrashRetries = 1;
        });

        // A file that keeps the worker busy for as long as the test likes, then ordinary images queued behind it.
        Task<PreparedImage> stuck = sandbox.PrepareAsync(TestAssets.InterlacedPalettePng(2), TestAssets.RawPixels);
        Task<PreparedImage>[] queued = [.. TestAssets.SampleImages.Select(f => sandbox.PrepareAsync(File.ReadAllBytes(f), TestAssets.RawPixels))];

        // Simulated crash: SIGKILL from outside, twice (the image is tried once more on the fresh worker).
        int first = await KillBusyWorkerAsync(sandbox, previous: 0);
        int second = await KillBusyWorkerAsync(sandbox, previous: first);

        PreparedImage crashed = await stuck;
        Assert.Equal(ErrorCodes.DecoderCrashed, crashed.Error?.Code);
        Assert.Contains("signal 9", crashed.Error!.Message);
        PreparedImage[] rest = await Task.WhenAll(queued);
        Assert.All(rest, r => Assert.NotNull(r.Tensor));
        Assert.Equal(2, sandbox.Restarts);
        Assert.DoesNotContain(first, sandbox.WorkerProcessIds);
        Assert.DoesNotContain(second, sandbox.WorkerProcessIds);
    }

    [Fact(Timeout = 120_000)]
    public async Task TheWorkerReadsTheFilesProvenanceWithItsPixels_AndReportsItForAFileItCannotDecode()
    {
        await using DecodeSandbox sandbox = await StartAsync(DecoderKind.Skia, o => o.Workers = 1);
        byte[] chatGpt = File.ReadAllBytes(Path.Combine(TestAssets.ProvenanceSamplesDir, "prov_0035.png"));

        PreparedImage decoded = await sandbox.PrepareAsync(chatGpt, TestAssets.RawPixels);
        PreparedImage truncated = await sandbox.PrepareAsync(chatGpt[..(chatGpt.Length * 3 / 4)], TestAssets.RawPixels);

        // One request: the tensor and the C2PA manifest the file carries, read in the worker, not in this process.
        Assert.NotNull(decoded.Tensor);
        Evidence c2pa = Assert.Single(decoded.Evidence!);
        // Verified in the worker too, against the C2PA trust list that ships beside it (the default, no option set):
        // exactly what this process finds with that list (`verified` while the signer's certificate is valid; ArtGrid
        // reads no time-stamp, so `untrusted signer (…NotTimeValid)` after it ends, here as there).
        Assert.Equal(Assert.Single(ProvenanceReader.Read(chatGpt, trust: C2paTrustList.FromOption(null))), c2pa);
        Assert.Equal((EvidenceSignals.C2pa, EvidenceDirection.Ai), (c2pa.Signal, c2pa.Indicates));
        Assert.DoesNotContain(C2paVerificationStates.TrustListNotConfigured, c2pa.Detail, StringComparison.Ordinal);

        // The manifest sits before the pixels: a file cut short still shows it, beside its decoding error, as a
        // manifest whose data hash no longer matches.
        Assert.Equal(ErrorCodes.DecodeFailed, truncated.Error?.Code);
        Assert.Contains(truncated.Evidence!, e => e.Signal == EvidenceSignals.C2paBroken && e.Detail.EndsWith("(verification: hash mismatch (edited after signing))", StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task AskedFor_TheImageAsScoredComesBackFromTheSameDecode_AsTheInProcessDecodeMakesIt()
    {
        await using DecodeSandbox sandbox = await StartAsync(DecoderKind.Skia, o => o.Workers = 1);
        byte[] photo = File.ReadAllBytes(TestAssets.Photo);

        PreparedImage plain = await sandbox.PrepareAsync(photo, TestAssets.RawPixels);
        PreparedImage kept = await sandbox.PrepareAsync(photo, TestAssets.RawPixels, keepOriented: true);

        Assert.Null(plain.Oriented);
        Assert.Equal(plain.Tensor, kept.Tensor); // the tensor does not change for it
        OrientedImage oriented = Assert.IsType<OrientedImage>(kept.Oriented);
        Assert.Equal((451, 300), (oriented.Width, oriented.Height)); // the photograph at its own size
        var preprocessor = new ImagePreprocessor(Options.Create(new PreprocessingOptions { Decoder = DecoderKind.Skia }));
        OrientedImage reference = preprocessor.Prepare(photo, TestAssets.RawPixels, keepOriented: true).Oriented!;
        Assert.Equal((reference.Width, reference.Height), (oriented.Width, oriented.Height));
        Assert.Equal(reference.Rgb, oriented.Rgb);
    }

    [Fact(Timeout = 120_000)]
    public async Task AWorkerThatDiedWhileIdleIsReplacedBeforeTheNextImage()
    {
        await using DecodeSandbox sandbox = await StartAsync(DecoderKind.Skia, o => o.Workers = 1);
        int pid = sandbox.WorkerProcessIds.Single();
        Process.GetProcessById(pid).Kill();
        await Wait.UntilAsync(() => !IsRunning(pid), TimeSpan.FromSeconds(60));

        PreparedImage result = await sandbox.PrepareAsync(File.ReadAllBytes(TestAssets.Photo), TestAssets.RawPixels);

        Assert.Null(result.Error);
        Assert.NotNull(result.Tensor);
        Assert.Equal(1, sandbox.Restarts);
    }

    [Fact(Timeout = 120_000)]
    public async Task AWorkerOverItsMemoryCeilingIsStoppedAndTheNextImageIsScored()
    {
        await using DecodeSandbox sandbox = await StartAsync(DecoderKind.Skia, o =>
        {
            o.Workers = 1;
            o.MemoryLimitMegabytes = 200;
        });

        // 8000 x 7000 grey: 56 MP (under the pixel cap), a few kilobytes on disk, 224 MB of RGBA once decoded.
        PreparedImage big = await sandbox.PrepareAsync(TestAssets.FlatGreyPng(8000, 7000), TestAssets.RawPixels);
        PreparedImage next = await sandbox.PrepareAsync(File.ReadAllBytes(TestAssets.Photo), TestAssets.RawPixels);

        Assert.Equal(ErrorCodes.DecodeMemoryLimit, big.Error?.Code);
        Assert.Contains("200 MiB", big.Error!.Message);
        Assert.NotNull(next.Tensor);
        Assert.Equal(1, sandbox.Restarts);
    }

    [Fact(Timeout = 120_000)]
    public async Task WorkersAreReplacedAfterTheirQuotaOfImages()
    {
        await using DecodeSandbox sandbox = await StartAsync(DecoderKind.Skia, o =>
        {
            o.Workers = 1;
            o.RecycleAfter = 3;
        });
        HashSet<int> seen = [.. sandbox.WorkerProcessIds];
        string[] files = [.. TestAssets.SampleImages];
        foreach (string file in files)
        {
            PreparedImage result = await sandbox.PrepareAsync(File.ReadAllBytes(file), TestAssets.RawPixels);
            Assert.NotNull(result.Tensor);
            seen.UnionWith(sandbox.WorkerProcessIds);
        }

        Assert.Equal(files.Length / 3, sandbox.Restarts);
        Assert.Equal((files.Length / 3) + 1, seen.Count);
    }

    [Theory]
    [InlineData(DecoderKind.Skia)]
    [InlineData(DecoderKind.ImageSharp)]
    [InlineData(DecoderKind.TurboJpeg)]
    public async Task SandboxedTensorsEqualInProcessTensors(DecoderKind decoder)
    {
        await using DecodeSandbox sandbox = await StartAsync(decoder, o => o.Workers = 2);
        var trusted = new InProcessImagePreparer(new ImagePreprocessor(Options.Create(new PreprocessingOptions { Decoder = decoder })));
        foreach ((string name, byte[] bytes) in TestAssets.SampleImages.Select(f => (f, File.ReadAllBytes(f))).Concat(TestAssets.BadFiles().Select(b => (b.Name, b.Bytes))))
        {
            PreparedImage sandboxed = await sandbox.PrepareAsync(bytes, TestAssets.RawPixels);
            PreparedImage inProcess = await trusted.PrepareAsync(bytes, TestAssets.RawPixels);
            Assert.True(inProcess.Error?.Code == sandboxed.Error?.Code, $"{name}: {inProcess.Error?.Code} in process, {sandboxed.Error?.Code} sandboxed ({sandboxed.Error?.Message})");
            Assert.Equal(inProcess.Error?.Message, sandboxed.Error?.Message);
            Assert.Equal((inProcess.Format, inProcess.Width, inProcess.Height), (sandboxed.Format, sandboxed.Width, sandboxed.Height));
            Assert.Equal(inProcess.Tensor, sandboxed.Tensor);
        }
    }

    [Fact]
    public async Task AMissingWorkerProgramFailsAtStartWithWhatToDo()
    {
        var sandbox = Create(DecoderKind.Skia, o => o.WorkerPath = Path.Combine(Path.GetTempPath(), "no-such-worker.dll"));
        await using (sandbox)
        {
            var error = await Assert.ThrowsAsync<FileNotFoundException>(() => sandbox.StartAsync());
            Assert.Contains("Isolation=InProcess", error.Message);
        }
    }

    internal static async Task<DecodeSandbox> StartAsync(DecoderKind decoder, Action<DecodeSandboxOptions> configure)
    {
        DecodeSandbox sandbox = Create(decoder, configure);
        await sandbox.StartAsync();
        return sandbox;
    }

    private static DecodeSandbox Create(DecoderKind decoder, Action<DecodeSandboxOptions> configure)
    {
        var options = new DecodeSandboxOptions();
        configure(options);
        IMeterFactory meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return new DecodeSandbox(
            Options.Create(options),
            Options.Create(new PreprocessingOptions { Decoder = decoder }),
            new DecodeInstruments(meters),
            NullLogger<DecodeSandbox>.Instance);
    }

    private static async Task<int> KillBusyWorkerAsync(DecodeSandbox sandbox, int previous)
    {
        // Busy with the stuck file, on a worker other than the one killed before (its replacement has to start first).
        await Wait.UntilAsync(() => sandbox.BusyWorkers == 1 && sandbox.WorkerProcessIds is [var id] && id != previous && IsRunning(id), TimeSpan.FromSeconds(60));
        await Task.Delay(300);
        int pid = sandbox.WorkerProcessIds.Single();
        Process.GetProcessById(pid).Kill();
        return pid;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using Process process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
