namespace ArtGrid;

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
