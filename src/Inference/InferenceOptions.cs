using System.ComponentModel.DataAnnotations;
using ArtGrid.Inference.Devices;
using Microsoft.Extensions.Options;

namespace ArtGrid.Inference;

public sealed class InferenceOptions
{
    public const string SectionName = "ArtGrid:Inference";

    /// <summary>The model repository: one folder per model, one folder per version inside.</summary>
    [Required]
    public string ModelsPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "models");

    /// <summary>
    /// The model silos score with: "name" (newest version) or "name/version". The version is the initial value of the
    /// model catalog: once the cluster has stored an active version, switching it is done there (see <see cref="ModelCatalogGrain"/>).
    /// </summary>
    [Required]
    public string Model { get; set; } = "artgrid-resnet18";

    /// <summary>
    /// How long a silo keeps the active version it last read from the model catalog: a job that starts longer than this
    /// after a switch was acknowledged is scored with the new version, on every silo.
    /// </summary>
    [Range(0.05, 3600)]
    public double ActiveVersionRefreshSeconds { get; set; } = 2;

    /// <summary>
    /// The devices this silo serves, each by its own inference grain placed on this silo: "cpu:N" slots, "cuda:N" GPUs
    /// (a build with the CUDA provider), "sim:N" simulated GPUs, or "cuda:all" for every GPU the node has. Empty: the
    /// silo ingests and preprocesses, and sends its tensors to other silos' devices. A silo reads this key from its
    /// configuration once, when it is built (<see cref="Devices.DeviceInventory"/>), and advertises the result: the list
    /// is part of the silo's identity in the cluster, so setting it in code after that changes nothing.
    /// </summary>
    public string[] Devices { get; set; } = ["cpu:0"];

    /// <summary>Session options of "cuda:N" devices.</summary>
    [ValidateObjectMembers]
    public CudaOptions Cuda { get; set; } = new();

    /// <summary>Latency model of "sim:N" devices.</summary>
    [ValidateObjectMembers]
    public SimulatedDeviceOptions Simulated { get; set; } = new();

    /// <summary>Largest batch one Run call scores.</summary>
    [Range(1, 1024)]
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>How long the oldest queued request may wait for the batch to fill.</summary>
    [Range(0, 10_000)]
    public double MaxQueueDelayMs { get; set; } = 4;

    /// <summary>
    /// Batch sizes a device prefers (Triton's preferred_batch_size): once the queue holds the largest of them, that many
    /// run at once without waiting; when the queue delay runs out, the batch is the largest preferred size available, or
    /// all that is queued when none is. Empty: every batch takes what is queued, up to <see cref="MaxBatchSize"/>.
    /// </summary>
    public int[] PreferredBatchSizes { get; set; } = [];

    /// <summary>Which batch sizes a device runs once at activation, so that the first real request of each size does not pay for it.</summary>
    public BatchWarmup Warmup { get; set; } = BatchWarmup.Auto;

    /// <summary>
    /// A device counts as saturated, for routing, once its queue holds this many full batches: ingestion then looks at
    /// other silos' devices and sends its tensor to the less loaded of two (power of two choices) when that one is less
    /// loaded than the best local device.
    /// </summary>
    [Range(0, 1000)]
    public double SaturatedQueueBatches { get; set; } = 2;

    /// <summary>
    /// Backpressure to the bus: a silo takes no new job off the bus while every device it can send to holds this many
    /// full batches, so that waiting work stays in the broker (bounded by prefetch) instead of in silo memory.
    /// </summary>
    [Range(0.1, 1000)]
    public double PauseIntakeQueueBatches { get; set; } = 4;

    /// <summary>Requests a device queues before it rejects new ones with a retry hint.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 256;

    /// <summary>
    /// ONNX Runtime intra-op threads per CPU session; 0 (the default) means half the cores, at least one. A silo decodes
    /// on every core too (one decode worker per core), and ONNX Runtime's own choice, one thread per core, made the two
    /// fight: on 2 cores the embedded pipeline scored 1.33x more images/s with 1 thread than with ONNX Runtime's 2
    /// (docs/BENCHMARKS.md). A silo that only infers may want every core. A host given a share of the machine
    /// ("ArtGrid:Silo:Cores") sets this to half of its share when it is 0.
    /// </summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>The threads a CPU session gets: <see cref="IntraOpThreads"/>, or half the cores (at least one) for 0.</summary>
    public int EffectiveIntraOpThreads => IntraOpThreads > 0 ? IntraOpThreads : Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>How often ingestion retries an image that a saturated device refused, honouring its retry hint.</summary>
    [Range(0, 1000)]
    public int MaxOverloadRetries { get; set; } = 50;
}

/// <summary>Batch sizes run once when a device's inference grain activates.</summary>
public enum BatchWarmup
{
    /// <summary>Every size 1..MaxBatchSize on GPUs and simulated devices (cuDNN picks kernels per shape); the largest only on CPU slots (the CPU provider's arena, grown once, serves every smaller batch).</summary>
    Auto,

    /// <summary>Every size from 1 to MaxBatchSize.</summary>
    Every,

    /// <summary>MaxBatchSize only.</summary>
    Largest,

    /// <summary>One image only (the check every session runs when it is created).</summary>
    None,
}
