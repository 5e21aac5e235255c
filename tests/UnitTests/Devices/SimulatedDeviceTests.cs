using System.Diagnostics;
using ArtGrid.Grains.Devices;
using ArtGrid.Inference;
using ArtGrid.Inference.Devices;

namespace ArtGrid.Tests.Devices;

public sealed class SimulatedDeviceTests
{
    // No wait at all: these tests are about the answers, not the latency.
    private static readonly SimulatedDeviceOptions Instant = new() { BaseMs = 0, PerImageMs = 0 };

    [Fact]
    public void AProbabilityLiesStrictlyBetweenZeroAndOne()
    {
        var random = new Random(11);
        float[][] tensors = [new float[8], [.. Enumerable.Repeat(float.MaxValue, 8)], [.. Enumerable.Repeat(float.NaN, 8)], .. RandomTensors(random, 50, 8)];

        Assert.All(tensors, t => Assert.True(SimulatedDevice.Probability(t) is > 0 and < 1));
    }

    [Fact]
    public void EqualTensorsGetTheSameProbability()
    {
        float[] tensor = RandomTensors(new Random(1), 1, 150_528)[0];

        Assert.Equal(SimulatedDevice.Probability(tensor), SimulatedDevice.Probability([.. tensor]));
    }

    [Fact]
    public void DifferentTensorsGetDifferentProbabilities()
    {
        var random = new Random(2);
        float[][] small = RandomTensors(random, 20, 16);
        float[][] real = RandomTensors(random, 5, 3 * 224 * 224);

        double[] probabilities = [.. small.Concat(real).Select(SimulatedDevice.Probability)];

        Assert.Equal(probabilities.Length, probabilities.Distinct().Count());
    }

    [Fact]
    public void ScoringAnswersOnceForEveryTensorWithoutAMap()
    {
        var device = new SimulatedDevice(16, Instant);
        float[][] batch = RandomTensors(new Random(3), 5, 16);

        ModelScore[] scores = device.Score(batch);

        Assert.Equal(batch.Select(SimulatedDevice.Probability), scores.Select(s => s.AiProbability));
        Assert.All(scores, s => Assert.Null(s.Map));
    }

    [Fact]
    public void ATensorOfTheWrongLengthIsRejected()
    {
        var device = new SimulatedDevice(16, Instant);

        ArgumentException error = Assert.Throws<ArgumentException>(() => device.Score([new float[16], new float[15]]));
        Assert.Equal("inputs", error.ParamName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(32)]
    public void ABatchTakesTheBaseTimePlusTimePerImage(int count)
    {
        var device = new SimulatedDevice(16, new SimulatedDeviceOptions { BaseMs = 2.5, PerImageMs = 0.75 });

        Assert.Equal(TimeSpan.FromMilliseconds(2.5 + (0.75 * count)), device.BatchTime(count));
    }

    [Fact]
    public void ScoringReallyWaitsForTheBatchTime()
    {
        var device = new SimulatedDevice(4, new SimulatedDeviceOptions { BaseMs = 5, PerImageMs = 1 });
        float[][] batch = RandomTensors(new Random(4), 3, 4);
        TimeSpan intended = device.BatchTime(batch.Length) * 6;

        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 6; i++)
        {
            device.Score(batch);
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);

        // The device pays back a late wake-up on the next batches, by at most one batch's time in all; so the six batches
        // together take no less than the time of five. No upper bound: a busy host may sleep longer.
        Assert.True(elapsed >= intended - device.BatchTime(batch.Length), $"Six batches of 3 took {elapsed.TotalMilliseconds:F1} ms of an intended {intended.TotalMilliseconds:F1} ms.");
    }

    [Fact]
    public void TheDefaultDeviceServesAboutEighteenHundredImagesASecondAtBatch32()
    {
        // 32 images in 2 + 0.5 * 32 = 18 ms.
        Assert.Equal(32 / 0.018, new SimulatedDeviceOptions().Capacity(32), 6);
    }

    [Theory]
    [InlineData(1.0, 0.0, 1, 1000.0)]
    [InlineData(2.0, 0.5, 1, 400.0)]
    [InlineData(4.0, 1.0, 4, 500.0)]
    public void CapacityIsTheBatchOverTheBatchTime(double baseMs, double perImageMs, int batch, double imagesPerSecond)
    {
        var options = new SimulatedDeviceOptions { BaseMs = baseMs, PerImageMs = perImageMs };

        Assert.Equal(imagesPerSecond, options.Capacity(batch), 6);
    }

    private static float[][] RandomTensors(Random random, int count, int length) =>
        [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length).Select(_ => random.NextSingle()).ToArray())];
}

public sealed class DeviceWarmupTests
{
    private static InferenceOptions Settings(BatchWarmup warmup) => new() { Warmup = warmup, MaxBatchSize = 6 };

    [Theory]
    [InlineData(DeviceKind.Cuda)]
    [InlineData(DeviceKind.Sim)]
    public void AutoWarmsAGpuAtEveryBatchSize(DeviceKind kind)
    {
        Assert.Equal([1, 2, 3, 4, 5, 6], InferenceGrain.WarmupSizes(Settings(BatchWarmup.Auto), kind));
    }

    [Fact]
    public void AutoWarmsACpuSlotAtTheLargestBatchOnly()
    {
        Assert.Equal([6], InferenceGrain.WarmupSizes(Settings(BatchWarmup.Auto), DeviceKind.Cpu));
    }

    [Theory]
    [InlineData(DeviceKind.Cpu)]
    [InlineData(DeviceKind.Cuda)]
    [InlineData(DeviceKind.Sim)]
    public void EveryWarmsEveryBatchSizeOnAnyDevice(DeviceKind kind)
    {
        Assert.Equal([1, 2, 3, 4, 5, 6], InferenceGrain.WarmupSizes(Settings(BatchWarmup.Every), kind));
    }

    [Theory]
    [InlineData(DeviceKind.Cpu)]
    [InlineData(DeviceKind.Cuda)]
    [InlineData(DeviceKind.Sim)]
    public void LargestWarmsTheLargestBatchOnAnyDevice(DeviceKind kind)
    {
        Assert.Equal([6], InferenceGrain.WarmupSizes(Settings(BatchWarmup.Largest), kind));
    }

    [Theory]
    [InlineData(DeviceKind.Cpu)]
    [InlineData(DeviceKind.Cuda)]
    [InlineData(DeviceKind.Sim)]
    public void NoneWarmsNothingBeyondTheSessionsOwnCheck(DeviceKind kind)
    {
        Assert.Empty(InferenceGrain.WarmupSizes(Settings(BatchWarmup.None), kind));
    }

    [Fact]
    public void TheDefaultWarmupIsAuto()
    {
        Assert.Equal(BatchWarmup.Auto, new InferenceOptions().Warmup);
    }
}
