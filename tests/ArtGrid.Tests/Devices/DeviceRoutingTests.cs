using ArtGrid.Abstractions;
using ArtGrid.Grains.Inference.Devices;
using Orleans.Concurrency;

namespace ArtGrid.Tests.Devices;

/// <summary>Three silos with different devices: two simulated GPUs; a simulated GPU and a CPU slot; none.</summary>
public sealed class DeviceClusterFixture : IAsyncLifetime
{
    public static readonly string[][] Inventories = [["sim:0", "sim:1"], ["sim:0", "cpu:0"], []];

    public DeviceCluster Devices { get; private set; } = null!;

    public async Task InitializeAsync() => Devices = await DeviceCluster.StartAsync(Inventories);

    public async Task DisposeAsync() => await Devices.DisposeAsync();
}

public sealed class DeviceRoutingTests(DeviceClusterFixture fixture) : IClassFixture<DeviceClusterFixture>
{
    private DeviceCluster Cluster => fixture.Devices;

    [Fact]
    public async Task EachDeviceGrainRunsOnTheSiloThatOwnsTheDevice()
    {
        float[] tensor = Cluster.BlankTensor();
        for (int s = 0; s < DeviceClusterFixture.Inventories.Length; s++)
        {
            foreach (string device in DeviceClusterFixture.Inventories[s])
            {
                string key = new DeviceKey(Cluster.ModelId, $"Silo_{s}", DeviceId.Parse(device)).ToString();
                // Called from the client, which reaches the cluster through whichever gateway it picked.
                InferenceResult result = await Cluster.Cluster.Client.GetGrain<IInferenceGrain>(key).InferAsync(tensor.AsImmutable());

                Assert.Equal($"Silo_{s}/{device}", result.Device);
                Assert.Equal(device.StartsWith("sim", StringComparison.Ordinal), result.Simulated);
                Assert.InRange(result.AiProbability, 0, 1);
            }
        }
    }

    [Fact]
    public async Task ADeviceNoSiloServesIsRefusedNotActivatedElsewhere()
    {
        float[] tensor = Cluster.BlankTensor();
        IInferenceGrain missing = Cluster.Cluster.Client.GetGrain<IInferenceGrain>(new DeviceKey(Cluster.ModelId, "Silo_2", new DeviceId(DeviceKind.Sim, 0)).ToString());
        IInferenceGrain noSilo = Cluster.Cluster.Client.GetGrain<IInferenceGrain>(new DeviceKey(Cluster.ModelId, "Silo_9", new DeviceId(DeviceKind.Sim, 0)).ToString());

        Exception notServed = await Assert.ThrowsAnyAsync<Exception>(() => missing.InferAsync(tensor.AsImmutable()));
        Exception notMember = await Assert.ThrowsAnyAsync<Exception>(() => noSilo.InferAsync(tensor.AsImmutable()));

        Assert.True(InferenceDispatcher.IsUnreachable(notServed), notServed.ToString());
        Assert.Contains("does not serve sim:0", notServed.ToString(), StringComparison.Ordinal);
        Assert.True(InferenceDispatcher.IsUnreachable(notMember), notMember.ToString());
        Assert.Contains("'Silo_9' is not an active member", notMember.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnderLightLoadEverySiloUsesItsOwnDevices()
    {
        float[] tensor = Cluster.BlankTensor();
        foreach (string silo in new[] { "Silo_0", "Silo_1" })
        {
            InferenceDispatcher dispatcher = Cluster.Service<InferenceDispatcher>(silo);
            var used = new HashSet<string>();
            for (int i = 0; i < 12; i++)
            {
                used.Add((await dispatcher.InferAsync(Cluster.ModelId, tensor)).Device);
            }

            Assert.All(used, device => Assert.StartsWith(silo + "/", device, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ASiloWithoutDevicesSendsItsTensorsToOtherSilos()
    {
        InferenceDispatcher dispatcher = Cluster.Service<InferenceDispatcher>("Silo_2");
        float[] tensor = Cluster.BlankTensor();

        InferenceResult[] results = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => dispatcher.InferAsync(Cluster.ModelId, tensor)));

        Assert.All(results, r => Assert.False(r.Device.StartsWith("Silo_2/", StringComparison.Ordinal)));
        Assert.True(results.Select(r => r.Device).Distinct().Count() >= 2, string.Join(", ", results.Select(r => r.Device)));
    }

    [Fact]
    public async Task SaturatedLocalDevicesSpillToOtherSilos()
    {
        InferenceDispatcher dispatcher = Cluster.Service<InferenceDispatcher>("Silo_0");
        float[] tensor = Cluster.BlankTensor();

        // Two local devices at 4 per batch and 40 ms a batch: 80 requests at once keep them ten batches deep, far past
        // the saturation mark of one full batch each.
        InferenceResult[] results = await Task.WhenAll(Enumerable.Range(0, 80).Select(_ => dispatcher.InferAsync(Cluster.ModelId, tensor)));

        int local = results.Count(r => r.Device.StartsWith("Silo_0/", StringComparison.Ordinal));
        int spilled = results.Length - local;
        Assert.True(local >= 8, $"only {local} of 80 stayed on Silo_0");
        Assert.True(spilled > 0, "nothing spilled to Silo_1");
        Assert.All(results.Where(r => !r.Device.StartsWith("Silo_0/", StringComparison.Ordinal)), r => Assert.StartsWith("Silo_1/", r.Device, StringComparison.Ordinal));
    }
}
