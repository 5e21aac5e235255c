using Orleans.Concurrency;

namespace ArtGrid.GrainInterfaces;

/// <summary>The version of a model that the cluster scores with, and since when.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ActiveModelVersion")]
public sealed record ActiveModelVersion(
    [property: Id(0)] string Name,
    [property: Id(1)] string Version,
    [property: Id(2)] DateTimeOffset ActivatedAt)
{
    /// <summary>"name/version", as image scores and verdicts report it.</summary>
    public string ModelId => $"{Name}/{Version}";
}
