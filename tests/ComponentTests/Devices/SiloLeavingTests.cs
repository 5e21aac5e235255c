using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;

namespace ArtGrid.Tests.Devices;

/// <summary>A silo with devices leaves while a silo without devices keeps sending it tensors.</summary>
public sealed class SiloLeavingTests
{
    [Fact]
    public async Task WhenASiloLeavesItsDevicesTrafficGoesToTheOthersAndNothingIsLost()
    {
        await using DeviceCluster cluster = await DeviceCluster.StartAsync([["sim:0"], ["sim:0", "sim:1"], []]);
        InferenceDispatcher dispatcher = cluster.Service<InferenceDispatcher>("Silo_2");
        float[] tensor = cluster.BlankTensor();
        var results = new List<(DateTime Started, InferenceResult Result)>();
        using var stop = new CancellationTokenSource();

        // Four streams of requests, each one at a time, for as long as the test runs.
        async Task StreamAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                DateTime started = DateTime.UtcNow;
                InferenceResult result = await dispatcher.InferAsync(cluster.ModelId, tensor);
                lock (results)
                {
                    results.Add((started, result));
                }
            }
        }

        Task[] streams = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(StreamAsync))];
        await Wait.UntilAsync(() => results.Any(r => r.Result.Device.StartsWith("Silo_1/", StringComparison.Ordinal)), TimeSpan.FromSeconds(60), "Silo_1 served nothing before it left");

        await cluster.Cluster.StopSiloAsync(cluster.Silo("Silo_1"));
        DateTime left = DateTime.UtcNow;
        int before;
        lock (results)
        {
            before = results.Count;
        }

        await Wait.UntilAsync(() => results.Count >= before + 40, TimeSpan.FromSeconds(60), "requests stopped completing after Silo_1 left");
        await stop.CancelAsync();
        await Task.WhenAll(streams); // any failed request fails the test here

        lock (results)
        {
            Assert.All(results.Where(r => r.Started > left), r => Assert.Equal("Silo_0/sim:0", r.Result.Device));
            Assert.Contains(results, r => r.Result.Device.StartsWith("Silo_1/", StringComparison.Ordinal));
        }

        Assert.DoesNotContain(cluster.Service<ClusterDevices>("Silo_2").Remote, d => d.Silo == "Silo_1");
    }

}
