using ArtGrid.GrainInterfaces;
using ArtGrid.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace ArtGrid.Grains.Models;

/// <summary>
/// Lists the model repository of the silo it runs on (a stateless worker, so the silo that receives the call): every
/// silo is deployed with the same repository, so any of them answers for the cluster.
/// </summary>
[StatelessWorker]
public sealed class ModelRepositoryGrain(ModelRepository repository) : Grain, IModelRepositoryGrain
{
    public async Task<IReadOnlyList<ModelListing>> ListAsync(CancellationToken cancellationToken = default)
    {
        (string Name, IReadOnlyList<string> Versions)[] models = await Task.Run(
            () => repository.Names().Where(ModelVersionCheck.IsValidSegment).Select(n => (n, repository.Versions(n))).ToArray(),
            cancellationToken);
        var listings = new List<ModelListing>(models.Length);
        foreach ((string name, IReadOnlyList<string> versions) in models)
        {
            try
            {
                listings.Add(new ModelListing(name, versions, await GrainFactory.GetGrain<IModelCatalogGrain>(name).GetActiveAsync(cancellationToken)));
            }
            catch (ModelVersionException ex)
            {
                listings.Add(new ModelListing(name, versions, null, ex.Message));
            }
        }

        return listings;
    }
}
