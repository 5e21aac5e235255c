namespace ArtGrid.GrainInterfaces;

/// <summary>
/// A job: 1..N images (one post) plus metadata. <paramref name="Recorded"/>: the verdict an earlier attempt of the job
/// already recorded where the cluster keeps job records (a redelivery after a crash), which the grain takes instead of
/// scoring again; the images may then be left out.
/// </summary>
[GenerateSerializer, Immutable, Alias("artgrid.ScoreJob")]
public sealed record ScoreJob(
    [property: Id(0)] string JobId,
    [property: Id(1)] IReadOnlyList<ImageRef> Images,
    [property: Id(2)] JobMetadata Metadata,
    [property: Id(3)] JobVerdict? Recorded = null);
