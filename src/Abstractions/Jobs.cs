namespace ArtGrid.Abstractions;

/// <summary>Where the bytes of one image come from.</summary>
public enum ImageSourceKind
{
    /// <summary>The bytes travel with the job.</summary>
    Inline = 0,

    /// <summary>A path on the file system of the silo that ingests the image (embedded mode, trusted callers only).</summary>
    File = 1,
}

/// <summary>One image of a job: its bytes inline, or a reference that ingestion resolves.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageRef")]
public sealed record ImageRef(
    [property: Id(0)] ImageSourceKind Kind,
    [property: Id(1)] string Name,
    [property: Id(2)] byte[]? Bytes = null)
{
    public static ImageRef FromFile(string path) => new(ImageSourceKind.File, path);

    public static ImageRef FromBytes(string name, byte[] bytes) => new(ImageSourceKind.Inline, name, bytes);
}

/// <summary>What the uploader and the platform say about a job.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.JobMetadata")]
public sealed record JobMetadata(
    [property: Id(0)] string? Author = null,
    [property: Id(1)] string? Source = null,
    [property: Id(2)] string? Licence = null,
    [property: Id(3)] bool? DeclaredAi = null,
    [property: Id(4)] IReadOnlyList<string>? Tags = null)
{
    public static JobMetadata None { get; } = new();
}

/// <summary>A job: 1..N images (one post) plus metadata.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ScoreJob")]
public sealed record ScoreJob(
    [property: Id(0)] string JobId,
    [property: Id(1)] IReadOnlyList<ImageRef> Images,
    [property: Id(2)] JobMetadata Metadata);

/// <summary>A per-image failure; the rest of the job goes on.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageError")]
public sealed record ImageError(
    [property: Id(0)] string Code,
    [property: Id(1)] string Message);

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

    public bool Succeeded => Error is null;
}

/// <summary>Where the time of one image went, in milliseconds.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageTimings")]
public sealed record ImageTimings(
    [property: Id(0)] double ReadMs,
    [property: Id(1)] double PreprocessMs,
    [property: Id(2)] double InferenceMs);

/// <summary>
/// The verdict of a whole job: its most AI image's label, the highest classifier probability, the reasons, and whether
/// the uploader's declaration conflicts with the verdict.
/// </summary>
[GenerateSerializer, Immutable, Alias("artgrid.JobVerdict")]
public sealed record JobVerdict(
    [property: Id(0)] string JobId,
    [property: Id(1)] string? Label,
    [property: Id(2)] double? AiProbability,
    [property: Id(3)] string Model,
    [property: Id(4)] IReadOnlyList<ImageScore> Images,
    [property: Id(5)] DateTimeOffset CompletedAt,
    [property: Id(6)] IReadOnlyList<string>? Reasons = null,
    [property: Id(7)] bool Conflict = false,
    [property: Id(8)] AuthorContext? Author = null);
