namespace ArtGrid;

/// <summary>Where the time of one image went, in milliseconds.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageTimings")]
public sealed record ImageTimings(
    [property: Id(0)] double ReadMs,
    [property: Id(1)] double PreprocessMs,
    [property: Id(2)] double InferenceMs);
