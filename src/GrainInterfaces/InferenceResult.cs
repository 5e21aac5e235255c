using Orleans.Concurrency;

namespace ArtGrid.GrainInterfaces;

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

    /// <summary>The generator family the image most resembles, when the model has an attribution head.</summary>
    [Id(8)]
    public GeneratorGuess? Generator { get; init; }
}
