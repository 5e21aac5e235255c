namespace ArtGrid;

/// <summary>A per-image failure; the rest of the job goes on.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageError")]
public sealed record ImageError(
    [property: Id(0)] string Code,
    [property: Id(1)] string Message);
