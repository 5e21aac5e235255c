using System.Globalization;
using System.Text.RegularExpressions;

namespace ArtGrid.Tests.Devices;

/// <summary><c>artgrid devices</c>, run as a process on the real model and a real image.</summary>
public sealed partial class DevicesCommandTests
{
    [Fact]
    public async Task CheckTimesTheModelOnACpuSlot()
    {
        (int exit, string stdout, string stderr) = await CliTests.RunAsync(
            "devices", "--check", "--device", "cpu:0", "--batch", "2", "--batches", "2", "--image", TestAssets.Photo);

        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Contains("CPUExecutionProvider", stdout);
        Assert.Contains($"model {TestAssets.DefaultModelId}", stdout);
        string line = Assert.Single(stdout.Split('\n'), l => l.StartsWith("cpu:0: ", StringComparison.Ordinal));
        Match match = ImagesPerSecond().Match(line);
        Assert.True(match.Success, line);
        Assert.Contains("batch 2,", line);
        Assert.True(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) > 0, line);
    }

    [Fact]
    public async Task CudaOnACpuBuildFailsWithTheReasonAndTheOtherDevicesStillRun()
    {
        (int exit, string stdout, string stderr) = await CliTests.RunAsync(
            "devices", "--check", "--device", "cuda:0", "--device", "cpu:0", "--device", "sim:0", "--batch", "1", "--batches", "1", "--image", TestAssets.Photo);

        Assert.NotEqual(0, exit);
        string error = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("cuda:0", StringComparison.Ordinal));
        Assert.Contains("no CUDA provider", error);
        Assert.Contains("-p:ArtGridGpu=true", error);
        Assert.Matches(ImagesPerSecond(), Assert.Single(stdout.Split('\n'), l => l.StartsWith("cpu:0: ", StringComparison.Ordinal)));
        Assert.Contains("sim:0: skipped", stdout);
    }

    [Fact]
    public async Task AnUnknownDeviceIsAUsageError()
    {
        (int exit, _, string stderr) = await CliTests.RunAsync("devices", "--device", "tpu:0");
        Assert.Equal(2, exit);
        Assert.Contains("'tpu:0' is not cpu:N, cuda:N, cuda:all or sim:N", stderr);
    }

    [GeneratedRegex(@" ([0-9]+(?:\.[0-9]+)?) images/s")]
    private static partial Regex ImagesPerSecond();
}
