using ArtGrid.Inference.Devices;

namespace ArtGrid.Tests.Devices;

/// <summary>The GPU probe's reading of nvidia-smi, and its promise never to throw or hang.</summary>
public sealed class GpuProbeTests
{
    [Fact]
    public void ParsesNvidiaSmiCsvRows()
    {
        // As `nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits` prints
        // them, out of order, with a name holding a comma, an unknown memory, a blank line and a stray message.
        const string csv = """
            1, NVIDIA A100-SXM4-80GB, 81920, 550.54.15
            0, Tesla T4, 15360, 550.54.15

            2, NVIDIA RTX 6000 Ada Generation, Engineering Sample, [N/A], 550.54.15
            No devices were found
            """;

        IReadOnlyList<GpuInfo> gpus = GpuProbe.ParseCsv(csv);

        Assert.Equal(
            [
                new GpuInfo(0, "Tesla T4", 15360, "550.54.15"),
                new GpuInfo(1, "NVIDIA A100-SXM4-80GB", 81920, "550.54.15"),
                new GpuInfo(2, "NVIDIA RTX 6000 Ada Generation, Engineering Sample", null, "550.54.15"),
            ],
            gpus);
    }

    [Fact]
    public void NothingParsableIsNoGpus()
    {
        Assert.Empty(GpuProbe.ParseCsv(""));
        Assert.Empty(GpuProbe.ParseCsv("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"));
    }

    [Fact]
    public void AMissingProgramOrAFailingOneIsAReasonNotAnException()
    {
        (string? output, string? why) = GpuProbe.Run("artgrid-no-such-program", "", TimeSpan.FromSeconds(5));
        Assert.Null(output);
        Assert.Contains("not found", why);

        (output, why) = GpuProbe.Run("sh", "-c \"echo driver gone >&2; exit 9\"", TimeSpan.FromSeconds(5));
        Assert.Null(output);
        Assert.Contains("exited with 9", why);
        Assert.Contains("driver gone", why);

        (output, why) = GpuProbe.Run("sh", "-c \"echo '0, Tesla T4, 15360, 550.54.15'\"", TimeSpan.FromSeconds(5));
        Assert.Null(why);
        Assert.Single(GpuProbe.ParseCsv(output!));
    }

    [Fact]
    public void AProgramThatHangsIsStoppedAtTheTimeout()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (string? output, string? why) = GpuProbe.Run("sleep", "30", TimeSpan.FromMilliseconds(300));
        Assert.Null(output);
        Assert.Contains("did not answer", why);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void ListNeverThrowsAndSaysWhyItIsEmpty()
    {
        IReadOnlyList<GpuInfo> gpus = new GpuProbe().List(out string? whyNone);
        Assert.True(gpus.Count > 0 ? whyNone is null : !string.IsNullOrEmpty(whyNone));
    }
}
