using Orleans.Concurrency;

namespace ArtGrid.Abstractions;

/// <summary>One job (a post of 1..N images): scores each image and merges the scores into a verdict.</summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Scores the job. Calling it again with the same job id returns the first verdict.</summary>
    Task<JobVerdict> ScoreAsync(ScoreJob job, CancellationToken cancellationToken = default);

    /// <summary>
    /// For a redelivered command: the stored verdict (publishing it if an earlier attempt did not get that far), or
    /// null when the job has not been scored yet.
    /// </summary>
    Task<JobVerdict?> ResumeAsync(CancellationToken cancellationToken = default);

    /// <summary>The verdict, or null while the job has not completed.</summary>
    Task<JobVerdict?> GetVerdictAsync(CancellationToken cancellationToken = default);
}

/// <summary>Reads an image's bytes, hashes them, consults the result cache, and drives preprocessing and inference.</summary>
public interface IIngestionGrain : IGrainWithIntegerKey
{
    /// <summary>Scores one image with the model version <paramref name="modelId"/> ("name/version") that its job resolved.</summary>
    Task<ImageScore> ScoreImageAsync(int index, ImageRef image, string modelId, CancellationToken cancellationToken = default);
}

/// <summary>Decodes and packs an image into the model's input tensor, on the silo that received it.</summary>
public interface IPreprocessGrain : IGrainWithIntegerKey
{
    Task<PreprocessResult> PrepareAsync(Immutable<byte[]> bytes, string modelId, CancellationToken cancellationToken = default);
}

/// <summary>
/// The model's scores for one image from an inference grain, with its class activation map when the model has one.
/// <see cref="Device"/> is where it ran ("{silo}/{device}"), <see cref="DevicePending"/> what that device held when it
/// answered (routers use it as the device's load), and <see cref="Simulated"/> marks a score from a simulated device,
/// which is not a real prediction.
/// </summary>
[GenerateSerializer, Immutable, Alias("artgrid.Inference")]
public sealed record InferenceResult(
    [property: Id(0)] double AiProbability,
    [property: Id(1)] double QueueMs,
    [property: Id(2)] double ComputeMs,
    [property: Id(3)] int BatchSize,
    [property: Id(4)] ActivationMap? ActivationMap = null)
{
    [Id(5)]
    public string Device { get; init; } = "";

    [Id(6)]
    public int DevicePending { get; init; }

    [Id(7)]
    public bool Simulated { get; init; }
}

/// <summary>An image made ready for the model, or why it could not be.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.PreprocessResult")]
public sealed record PreprocessResult(
    [property: Id(0)] float[]? Tensor,
    [property: Id(1)] ImageError? Error,
    [property: Id(2)] string? Format,
    [property: Id(3)] int Width,
    [property: Id(4)] int Height,
    [property: Id(5)] IReadOnlyList<Evidence>? PixelEvidence = null);

/// <summary>
/// Inference pinned to one device, keyed "{modelId}@{silo}/{device}" (e.g. "artgrid-resnet18/2@silo-1/cuda:0") and
/// placed on that silo, or "{modelId}@{device}" for the calling silo's device. Batches the requests that reach it.
/// </summary>
public interface IInferenceGrain : IGrainWithStringKey
{
    Task<InferenceResult> InferAsync(Immutable<float[]> tensor, CancellationToken cancellationToken = default);
}
