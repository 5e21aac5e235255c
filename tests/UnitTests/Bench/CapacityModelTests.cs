using ArtGrid.Bench;
using ArtGrid.Inference.Devices;

namespace ArtGrid.Tests.Bench;

/// <summary>The sizing arithmetic of <c>artgrid-bench capacity</c>, on numbers worked by hand.</summary>
public sealed class CapacityModelTests
{
    [Fact]
    public void Efficiency_IsTheRateOfCWorkersOverCTimesTheRateOfOne()
    {
        // 2 workers at 36 images/s where one does 20: 36 / 40.
        Assert.Equal(0.9, CapacityModel.Efficiency(20, 36, 2), 12);
        Assert.Equal(0.5, CapacityModel.Efficiency(10, 20, 4), 12);
    }

    [Fact]
    public void Efficiency_IsOneForOneWorker_AndNeverAboveOne()
    {
        Assert.Equal(1, CapacityModel.Efficiency(20, 17, 1));

        // A noisy round where the wider pool ran faster than linear is read as perfect scaling, not better.
        Assert.Equal(1, CapacityModel.Efficiency(10, 25, 2));
    }

    [Fact]
    public void Efficiency_RefusesNoWorkersAndAZeroBaseline()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CapacityModel.Efficiency(20, 36, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CapacityModel.Efficiency(0, 36, 2));
    }

    [Fact]
    public void PerCoreEfficiency_IsTheCpuCostOfOneWorkerOverThatOfMany_AtMostOne()
    {
        // An image that costs 40 CPU-ms with two workers decoding at once and 36 alone.
        Assert.Equal(0.9, CapacityModel.PerCoreEfficiency(36, 40), 12);
        Assert.Equal(1, CapacityModel.PerCoreEfficiency(41, 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => CapacityModel.PerCoreEfficiency(36, 0));
    }

    [Fact]
    public void CoresPerGpu_IsRateTimesCpuSecondsPerImageOverEfficiency()
    {
        // The example: 17 CPU-ms per image, so a 16-core node at full efficiency feeds 941 images/s, and a GPU
        // of 5,000 images/s needs 85 cores; at an efficiency of 0.85, 100.
        Assert.Equal(85, CapacityModel.CoresPerGpu(5_000, 17, 1), 9);
        Assert.Equal(100, CapacityModel.CoresPerGpu(5_000, 17, 0.85), 9);
        Assert.Equal(1000.0 * 16 / 17, CapacityModel.DecodeImagesPerSecond(16, 17, 1), 9);
    }

    [Fact]
    public void CoresPerGpu_AndDecodeRate_AreInverses()
    {
        double cores = CapacityModel.CoresPerGpu(5_000, 16, 0.8);

        Assert.Equal(100, cores, 9);
        Assert.Equal(5_000, CapacityModel.DecodeImagesPerSecond(100, 16, 0.8), 9);
    }

    [Fact]
    public void Node_IsTheSlowerStage_AndNamesIt()
    {
        // 32 cores at 50 CPU-ms and efficiency 0.9 decode 576 images/s.
        Assert.Equal((576, CapacityModel.Decode), Round(CapacityModel.Node(32, 1, 1_000, 50, 0.9)));
        Assert.Equal((500, CapacityModel.Gpu), Round(CapacityModel.Node(32, 1, 500, 50, 0.9)));

        // Two GPUs of 250 match the decode rate of 16 cores at 32 CPU-ms exactly: a tie is the GPU's.
        Assert.Equal((500, CapacityModel.Gpu), Round(CapacityModel.Node(16, 2, 250, 32, 1)));
    }

    [Fact]
    public void Bottleneck_IsTheBusierStage()
    {
        Assert.Equal(CapacityModel.Decode, CapacityModel.Bottleneck(decodeBusyShare: 0.98, gpuBusyShare: 0.04));
        Assert.Equal(CapacityModel.Gpu, CapacityModel.Bottleneck(decodeBusyShare: 0.35, gpuBusyShare: 0.97));
        Assert.Equal(CapacityModel.Gpu, CapacityModel.Bottleneck(decodeBusyShare: 0.9, gpuBusyShare: 0.9));
    }

    [Theory]
    [InlineData(1_000, 16)]
    [InlineData(5_000, 16)]
    [InlineData(20_000, 64)]
    [InlineData(37, 1)]
    public void SimulatedGpu_RunsFullBatchesAtTheRateAsked(double rate, int batch)
    {
        (double baseMs, double perImageMs) = CapacityModel.SimulatedGpu(rate, batch);
        var device = new SimulatedDeviceOptions { BaseMs = baseMs, PerImageMs = perImageMs };

        Assert.Equal(rate, device.Capacity(batch), 6);
        Assert.Equal(0.2 * batch * 1000 / rate, baseMs, 9);
        Assert.True(device.Capacity(1) < rate, "a batch of one must be slower per image than a full batch");
    }

    private static (double, string) Round((double ImagesPerSecond, string Bottleneck) node) => (Math.Round(node.ImagesPerSecond, 6), node.Bottleneck);
}
