using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;

namespace ArtGrid.Tests.Devices;

/// <summary>The intake gate closes when every device of the cluster is saturated and opens when they have room.</summary>
public sealed class IntakeBackpressureTests
{
    [Fact]
    public async Task IntakeIsHeldWhileEveryDeviceIsSaturatedAndLetGoWhenTheyDrain()
    {
        // Two silos with one simulated device each, 40 ms per batch of 4: intake pauses at 4 full batches (16) on both.
        await using DeviceCluster cluster = await DeviceCluster.StartAsync([["sim:0"], ["sim:0"]]);
        IntakeGate gate = cluster.Service<IntakeGate>("Silo_0");
        InferenceDispatcher dispatcher = cluster.Service<InferenceDispatcher>("Silo_0");
        InferenceDispatcher other = cluster.Service<InferenceDispatcher>("Silo_1");
        float[] tensor = cluster.BlankTensor();
        await Task.WhenAll(dispatcher.InferAsync(cluster.ModelId, tensor), other.InferAsync(cluster.ModelId, tensor));
        Assert.False(gate.Closed);

        // Both silos' devices fill up: Silo_0's router sees its own exactly and the other's through its reports.
        Task<InferenceResult>[] local = [.. Enumerable.Range(0, 40).Select(_ => dispatcher.InferAsync(cluster.ModelId, tensor))];
        Task<InferenceResult>[] remote = [.. Enumerable.Range(0, 40).Select(_ => other.InferAsync(cluster.ModelId, tensor))];
        await Wait.UntilAsync(() => gate.Closed, TimeSpan.FromSeconds(30), "the gate never closed with both devices ten batches deep");
        Task held = gate.WaitAsync();
        Assert.False(held.IsCompleted);

        InferenceResult[] results = await Task.WhenAll([.. local, .. remote]);
        await held.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(gate.Closed);
        Assert.True(gate.Waits >= 1);
        Assert.Equal(80, results.Length);
    }

}
