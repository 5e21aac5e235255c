using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Grains.Inference;

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

    /// <summary>The devices this silo serves: "cpu:N" slots (CUDA devices come with the GPU work).</summary>
    [MinLength(1)]
    public string[] Devices { get; set; } = ["cpu:0"];

    /// <summary>Largest batch one Run call scores.</summary>
    [Range(1, 1024)]
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>How long the oldest queued request may wait for the batch to fill.</summary>
    [Range(0, 10_000)]
    public double MaxQueueDelayMs { get; set; } = 4;

    /// <summary>Requests a device queues before it rejects new ones with a retry hint.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 256;

    /// <summary>
    /// ONNX Runtime intra-op threads per CPU session; 0 (the default) means half the cores, at least one. A silo decodes
    /// on every core too (one decode worker per core), and ONNX Runtime's own choice, one thread per core, made the two
    /// fight: on 2 cores the embedded pipeline scored 1.33x more images/s with 1 thread than with ONNX Runtime's 2
    /// (docs/BENCHMARKS.md). A silo that only infers may want every core.
    /// </summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>The threads a CPU session gets: <see cref="IntraOpThreads"/>, or half the cores (at least one) for 0.</summary>
    public int EffectiveIntraOpThreads => IntraOpThreads > 0 ? IntraOpThreads : Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>How often ingestion retries an image that a saturated device refused, honouring its retry hint.</summary>
    [Range(0, 1000)]
    public int MaxOverloadRetries { get; set; } = 50;
}
