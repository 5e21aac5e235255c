using ArtGrid.Grains.Models;
using ArtGrid.Hosting;
using ArtGrid.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace ArtGrid.Tests;

/// <summary>One in-process Orleans test cluster (one silo) with the real grains, model and in-memory cache.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; } = new TestClusterBuilder(1).AddSiloBuilderConfigurator<SiloConfigurator>().Build();

    public IGrainFactory Grains => Cluster.GrainFactory;

    public Task InitializeAsync() => Cluster.DeployAsync();

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddArtGridInMemory();
            siloBuilder.ConfigureServices(services =>
            {
                services.Configure<InferenceOptions>(o =>
                {
                    o.ModelsPath = TestAssets.ModelsDir;
                    o.MaxBatchSize = 4;
                    o.QueueCapacity = 8;
                });
                // c2pa-rs's test roots: its test files' claims are verified, and so may decide a verdict.
                services.Configure<ArtGrid.Imaging.PreprocessingOptions>(o =>
                    o.C2paTrustAnchors = Path.Combine(TestAssets.ProvenanceSamplesDir, "public", "c2pa-rs", "test_cert_root_bundle.pem"));
            });
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
