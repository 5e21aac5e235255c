using Orleans.Concurrency;

namespace ArtGrid.GrainInterfaces;

/// <summary>The model repository as the silos see it: the versions on disk and the active one, for each model.</summary>
public interface IModelRepositoryGrain : IGrainWithIntegerKey
{
    Task<IReadOnlyList<ModelListing>> ListAsync(CancellationToken cancellationToken = default);
}
