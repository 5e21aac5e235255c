namespace ArtGrid.GrainInterfaces;

/// <summary>A job: 1..N images (one post) plus metadata.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ScoreJob")]
public sealed record ScoreJob(
    [property: Id(0)] string JobId,
    [property: Id(1)] IReadOnlyList<ImageRef> Images,
    [property: Id(2)] JobMetadata Metadata);
