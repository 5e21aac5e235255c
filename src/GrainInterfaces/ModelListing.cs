using Orleans.Concurrency;

namespace ArtGrid.GrainInterfaces;

/// <summary>One model of the repository: its versions on disk (oldest first) and the active one (null when none resolves).</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ModelListing")]
public sealed record ModelListing(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<string> Versions,
    [property: Id(2)] ActiveModelVersion? Active,
    [property: Id(3)] string? Problem = null);
