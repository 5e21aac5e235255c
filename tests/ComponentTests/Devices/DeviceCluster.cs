using ArtGrid.Grains.Devices;
using ArtGrid.Hosting;
using ArtGrid.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace ArtGrid.Tests.Devices;

/// <summary>
/// An in-process cluster whose silos serve different devices (silo "Silo_N" gets inventory N; an empty inventory
/// means no devices), with the real grains and model repository. Simulated devices are slow enough (20 ms + 5 ms per
/// image, batches of up to 4) that a few dozen concurrent requests saturate one.
/// </summary>
public sealed class DeviceCluster : IAsyncDisposable
{
    private DeviceCluster(InProcessTestCluster cluster) => Cluster = cluster;

    public InProcessTestCluster Cluster { get; }

    public static async Task<DeviceCluster> StartAsync(params string[][] inventories)
    {
        var builder = new InProcessTestClusterBuilder((short)inventories.Length);
        builder.ConfigureSiloHost((silo, host) =>
        {
            int index = int.Parse(silo.SiloName[(silo.SiloName.LastIndexOf('_') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            string[] devices = index < inventories.Length ? inventories[index] : [];
            var settings = new Dictionary<string, string?>
            {
                ["ArtGrid:Inference:ModelsPath"] = TestAssets.ModelsDir,
                ["ArtGrid:Inference:MaxBatchSize"] = "4",
                ["ArtGrid:Inference:QueueCapacity"] = "256",
                ["ArtGrid:Inference:SaturatedQueueBatches"] = "1",
                ["ArtGrid:Inference:Simulated:BaseMs"] = "20",
                ["ArtGrid:Inference:Simulated:PerImageMs"] = "5",
            };
            if (devices.Length == 0)
            {
                settings["ArtGrid:Inference:Devices"] = "";
            }

            for (int i = 0; i < devices.Length; i++)
            {
                settings[$"ArtGrid:Inference:Devices:{i}"] = devices[i];
            }

            host.Configuration.AddInMemoryCollection(settings);
        });
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddArtGridInMemory();
        });
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        var started = new DeviceCluster(cluster);
        await started.WaitForAdvertisedDevicesAsync(inventories);
        return started;
    }

    public InProcessSiloHandle Silo(string name) => Cluster.Silos.Single(s => s.Name == name);

    public T Service<T>(string silo)
        where T : notnull => Silo(silo).ServiceProvider.GetRequiredService<T>();

    public string ModelId => Service<ModelSessions>(Cluster.Silos[0].Name).DefaultModel.Id;

    public float[] BlankTensor() => new float[Service<ModelSessions>(Cluster.Silos[0].Name).DefaultModel.Input.ElementCount];

    /// <summary>Waits until every silo sees every other silo's devices (silo metadata is fetched after a silo joins).</summary>
    public async Task WaitForAdvertisedDevicesAsync(string[][] inventories)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (InProcessSiloHandle silo in Cluster.Silos)
        {
            ClusterDevices devices = silo.ServiceProvider.GetRequiredService<ClusterDevices>();
            int expected = Cluster.Silos.Where(s => s.Name != silo.Name).Sum(s => InventoryOf(s.Name, inventories).Length);
            while (devices.Remote.Count != expected)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{silo.Name} sees {devices.Remote.Count} remote devices ({string.Join(", ", devices.Remote)}), expected {expected}.");
                }

                await Task.Delay(100);
            }
        }
    }

    private static string[] InventoryOf(string silo, string[][] inventories)
    {
        int index = int.Parse(silo[(silo.LastIndexOf('_') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return index < inventories.Length ? inventories[index] : [];
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}
