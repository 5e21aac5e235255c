namespace ArtGrid.Bench;

/// <summary>
/// The arithmetic of the node capacity model (<c>artgrid-bench capacity</c>), apart from any measurement so that it can
/// be checked on its own. A node decodes on its cores and infers on its GPU; whichever is slower sets its rate.
/// Decoding costs <c>cpuMs</c> CPU-ms per image on one worker, and C workers decode <c>efficiency</c> x C times as
/// fast as one (the scaling measured from 1 to C workers), so N cores decode N x efficiency x 1000 / cpuMs images/s.
/// </summary>
internal static class CapacityModel
{
    public const string Decode = "decode";
    public const string Gpu = "gpu";

    /// <summary>
    /// How the decode rate scales from one worker to <paramref name="workers"/>: X_C / (C x X_1), at most 1. Exactly 1
    /// for one worker (nothing was scaled).
    /// </summary>
    public static double Efficiency(double imagesPerSecondOne, double imagesPerSecondMany, int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imagesPerSecondOne);
        ArgumentOutOfRangeException.ThrowIfNegative(imagesPerSecondMany);
        return workers == 1 ? 1 : Math.Min(1, imagesPerSecondMany / (workers * imagesPerSecondOne));
    }

    /// <summary>
    /// The same scaling per core the work actually got: images/s per busy core with C workers against one, which is
    /// CPU-ms per image on one worker over CPU-ms per image on C, at most 1. Unlike <see cref="Efficiency"/> it does not
    /// fall when other work on a shared machine takes cores away; it does not see cores the pool leaves idle either.
    /// </summary>
    public static double PerCoreEfficiency(double cpuMsOne, double cpuMsMany)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cpuMsOne);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cpuMsMany);
        return Math.Min(1, cpuMsOne / cpuMsMany);
    }

    /// <summary>Cores that keep a GPU of <paramref name="gpuImagesPerSecond"/> busy: R x CPU-ms / 1000 / efficiency.</summary>
    public static double CoresPerGpu(double gpuImagesPerSecond, double cpuMsPerImage, double efficiency)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gpuImagesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cpuMsPerImage);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(efficiency);
        return gpuImagesPerSecond * cpuMsPerImage / 1000 / efficiency;
    }

    /// <summary>Images/s that <paramref name="cores"/> cores decode: N x efficiency x 1000 / CPU-ms.</summary>
    public static double DecodeImagesPerSecond(int cores, double cpuMsPerImage, double efficiency)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cores);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cpuMsPerImage);
        ArgumentOutOfRangeException.ThrowIfNegative(efficiency);
        return cores * efficiency * 1000 / cpuMsPerImage;
    }

    /// <summary>
    /// A node of <paramref name="cores"/> cores and <paramref name="gpus"/> GPUs of <paramref name="gpuImagesPerSecond"/>
    /// each: its images/s, the slower of the two stages, and which stage that is (the GPU when they tie).
    /// </summary>
    public static (double ImagesPerSecond, string Bottleneck) Node(int cores, int gpus, double gpuImagesPerSecond, double cpuMsPerImage, double efficiency)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gpus);
        ArgumentOutOfRangeException.ThrowIfNegative(gpuImagesPerSecond);
        double decode = DecodeImagesPerSecond(cores, cpuMsPerImage, efficiency);
        double infer = gpus * gpuImagesPerSecond;
        return infer <= decode ? (infer, Gpu) : (decode, Decode);
    }

    /// <summary>
    /// The bottleneck of a measured run: the stage that was busier, from the share of time the decode workers held an
    /// image and the share of time the GPU ran a batch (the GPU when they tie).
    /// </summary>
    public static string Bottleneck(double decodeBusyShare, double gpuBusyShare) =>
        gpuBusyShare >= decodeBusyShare ? Gpu : Decode;

    /// <summary>
    /// A simulated GPU of <paramref name="imagesPerSecond"/> at full batches of <paramref name="maxBatch"/>: a batch of
    /// n takes base + per-image x n ms, the full batch taking maxBatch / R seconds, a fifth of it the fixed cost.
    /// </summary>
    public static (double BaseMs, double PerImageMs) SimulatedGpu(double imagesPerSecond, int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imagesPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        double batchMs = maxBatch * 1000 / imagesPerSecond;
        return (batchMs * 0.2, batchMs * 0.8 / maxBatch);
    }
}
