namespace ArtGrid;

/// <summary>
/// The score of one image. <see cref="Label"/> is the verdict merged from the classifier, the file's provenance
/// <see cref="Evidence"/> and the job's metadata (explained by <see cref="Reasons"/>); <see cref="AiProbability"/> stays
/// the classifier's. <see cref="ActivationMap"/> says where the classifier found its evidence, when the model has a
/// feature map; it travels between grains and to the embedded CLI, but not in JSON (bus events, job records), which
/// stay as they were.
/// </summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageScore")]
public sealed record ImageScore(
    [property: Id(0)] int Index,
    [property: Id(1)] string Name,
    [property: Id(2)] string? Sha256,
    [property: Id(3)] string? Label,
    [property: Id(4)] double? AiProbability,
    [property: Id(5)] string Model,
    [property: Id(6)] ImageError? Error,
    [property: Id(7)] bool Cached,
    [property: Id(8)] ImageTimings? Timings,
    [property: Id(9)] IReadOnlyList<Evidence>? Evidence = null,
    [property: Id(10)] IReadOnlyList<string>? Reasons = null,
    [property: Id(11), System.Text.Json.Serialization.JsonIgnore] ActivationMap? ActivationMap = null)
{
    /// <summary>Where the model ran ("{silo}/{device}"); null for a cached score or a failure before inference.</summary>
    [Id(12)]
    public string? Device { get; init; }

    /// <summary>The score came from a simulated device ("sim:N"): it is not a prediction, and it is never cached.</summary>
    [Id(13)]
    public bool Simulated { get; init; }

    /// <summary>
    /// The classifier's own label for <see cref="AiProbability"/> under the model's operating point, set where the image
    /// is scored; <see cref="Label"/> is the verdict, set by the verdict policy from this, the evidence and the metadata.
    /// </summary>
    [Id(14)]
    public string? ClassifierLabel { get; init; }

    /// <summary>The generator family the image most resembles (the model's attribution head), shown among the reasons, never deciding the label.</summary>
    [Id(15)]
    public GeneratorGuess? Generator { get; init; }

    public bool Succeeded => Error is null;
}
