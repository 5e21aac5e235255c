namespace ArtGrid;

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
