namespace ArtGrid.GrainInterfaces;

/// <summary>
/// A share of a large job's images, scored on the silo the cluster places it on (a job's shares go to the silos in
/// turn): how a job of many images uses every silo's decode workers instead of its own silo's alone. Keyed by job id
/// and share number; it keeps nothing, and leaves once it has answered.
/// </summary>
public interface IImageShareGrain : IGrainWithStringKey
{
    /// <summary>Scores the share's images with the job's model version; scores carry their index in the job.</summary>
    Task<ImageScore[]> ScoreAsync(ImageShare share, CancellationToken cancellationToken = default);
}

/// <summary>Images <see cref="FirstIndex"/>.. of a job, as bytes, and the model version its job resolved.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageShare")]
public sealed record ImageShare(
    [property: Id(0)] int FirstIndex,
    [property: Id(1)] IReadOnlyList<ImageRef> Images,
    [property: Id(2)] string ModelId);
