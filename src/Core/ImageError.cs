namespace ArtGrid;

/// <summary>A per-image failure; the rest of the job goes on.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageError")]
public sealed record ImageError(
    [property: Id(0)] string Code,
    [property: Id(1)] string Message)
{
    /// <summary>For a transient failure (<see cref="ErrorCodes.Overloaded"/>): how long to wait before sending the image again.</summary>
    [Id(2)]
    public int? RetryAfterMs { get; init; }
}
