using Orleans.Concurrency;

namespace ArtGrid.GrainInterfaces;

/// <summary>
/// The cluster-wide record of which version of one model (keyed by the model's name) is active: the version every
/// silo scores new jobs with. Kept in grain storage, so that a switch survives restarts; it starts as the version that
/// configuration names. Switching never restarts a silo: each silo reads the active version again within its refresh
/// interval.
/// </summary>
public interface IModelCatalogGrain : IGrainWithStringKey
{
    /// <summary>The active version. Interleaves with a switch in progress (which answers the old one until it is stored).</summary>
    [AlwaysInterleave]
    Task<ActiveModelVersion> GetActiveAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes <paramref name="version"/> active once it has loaded on this grain's silo (model.json, head, backbone and a
    /// trial run). Throws <see cref="ModelVersionException"/> and leaves the active version as it was when it does not.
    /// </summary>
    Task<ActiveModelVersion> ActivateAsync(string version, CancellationToken cancellationToken = default);
}
