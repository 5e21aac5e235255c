using System.Diagnostics.Metrics;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains;
using ArtGrid.Grains.Devices;
using ArtGrid.Inference.Devices;
using ArtGrid.Inference.Diagnostics;
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

    [Fact]
    public async Task AnImageScoredOnASimulatedDeviceSaysSoAndIsNeverCached()
    {
        // Silo_0 serves only simulated devices, and its image scorer sends its tensors there.
        ImageScorer scorer = Cluster.Service<ImageScorer>("Silo_0");
        byte[] photo = await File.ReadAllBytesAsync(TestAssets.Photo);

        ImageScore first = await scorer.ScoreAsync(0, ImageRef.FromBytes("photo.jpg", photo), Cluster.ModelId);
        ImageScore again = await scorer.ScoreAsync(0, ImageRef.FromBytes("photo.jpg", photo), Cluster.ModelId);

        Assert.True(first.Succeeded, first.Error?.Message);
        Assert.True(first.Simulated);
        Assert.StartsWith("Silo_0/sim:", first.Device, StringComparison.Ordinal);
        Assert.False(again.Cached); // a simulated score is not a prediction: it must never answer for the image later
        Assert.Equal(first.AiProbability, again.AiProbability); // deterministic for the same pixels
    }

    [Fact]
    public async Task EveryDeviceReportsItsQueueDepthBatchSizesAndQueueDelays()
    {
        InferenceDispatcher dispatcher = Cluster.Service<InferenceDispatcher>("Silo_0");
        float[] tensor = Cluster.BlankTensor();

        // Both devices active (and warmed up) first, so that what follows measures serving.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => dispatcher.InferAsync(Cluster.ModelId, tensor)));
        var depths = new Dictionary<string, int>();
        var batches = new List<(string Device, int Size)>();
        var delays = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ArtGridInstruments.MeterName && instrument.Name.StartsWith("artgrid.inference.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            string device = (string)tags.ToArray().Single(t => t.Key == "device").Value!;
            lock (batches)
            {
                if (instrument.Name == "artgrid.inference.queue.depth")
                {
                    depths[device] = Math.Max(depths.GetValueOrDefault(device), value);
                }
                else if (instrument.Name == "artgrid.inference.batch.size")
                {
                    batches.Add((device, value));
                }
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            if (instrument.Name == "artgrid.inference.queue.delay")
            {
                lock (batches)
                {
                    delays.Add((string)tags.ToArray().Single(t => t.Key == "device").Value!);
                }
            }
        });
        listener.Start();

        Task<InferenceResult>[] calls = [.. Enumerable.Range(0, 40).Select(_ => dispatcher.InferAsync(Cluster.ModelId, tensor))];
        Task all = Task.WhenAll(calls);
        while (!all.IsCompleted)
        {
            listener.RecordObservableInstruments(); // the queue depth gauge, read while the requests are queued
            await Task.WhenAny(all, Task.Delay(5));
        }

        await all;

        lock (batches)
        {
            Assert.True(depths.Any(d => d.Key.StartsWith("Silo_0/sim:", StringComparison.Ordinal) && d.Value > 0), string.Join(", ", depths.Select(d => $"{d.Key}={d.Value}")) + " batches " + string.Join(",", batches));
            Assert.Contains(batches, b => b.Device.StartsWith("Silo_0/sim:", StringComparison.Ordinal) && b.Size > 1);
            Assert.All(batches, b => Assert.InRange(b.Size, 1, 4));
            Assert.Contains(delays, d => d.StartsWith("Silo_0/sim:", StringComparison.Ordinal));
        }
    }
}
