using ArtGrid.GrainInterfaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace ArtGrid.Grains.Models;

[GenerateSerializer, Alias("artgrid.ModelCatalogState")]
public sealed class ModelCatalogState
{
    [Id(0)]
    public ActiveModelVersion? Active { get; set; }
}
