using ArtGrid.Hosting;
using ArtGrid.Imaging.Sandbox;
using ArtGrid.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.Hosting;

/// <summary>A silo sizes its decode workers and ONNX Runtime threads from the cores it is given, and its pools' own settings win.</summary>
public sealed class SiloCoresTests
{
    [Theory]
    // Nothing set: the whole machine, as before (one decode worker per core, half as many ONNX Runtime threads).
    [InlineData(null, 2, null, 0, 2, 2, 1)]
    [InlineData(null, 16, null, 0, 16, 16, 8)]
    [InlineData(null, 1, null, 0, 1, 1, 1)]
    // Two silos on two cores, each given one: one worker and one thread each, not two and one.
    [InlineData(1, 2, null, 0, 1, 1, 1)]
    // Four silos on a 16-core node, 4 cores each.
    [InlineData(4, 16, null, 0, 4, 4, 2)]
    [InlineData(3, 16, null, 0, 3, 3, 1)]
    // A share larger than the cores the process sees (a container's limit) is cut to them.
    [InlineData(8, 2, null, 0, 2, 2, 1)]
    // The pools' own settings win over the share.
    [InlineData(1, 2, 3, 0, 1, 3, 1)]
    [InlineData(4, 16, null, 6, 4, 4, 6)]
    [InlineData(4, 16, 1, 12, 4, 1, 12)]
    public void PoolsFollowTheShare(int? cores, int processorCount, int? workers, int intraOp, int expectedCores, int expectedWorkers, int expectedThreads)
    {
        Assert.Equal(new SiloCores(expectedCores, expectedWorkers, expectedThreads), SiloCores.Of(cores, processorCount, workers, intraOp));
    }

    [Fact]
    public void TheSettingReachesTheSandboxAndTheInferenceOptions()
    {
        (DecodeSandboxOptions sandbox, InferenceOptions inference) = Resolve(new() { ["ArtGrid:Silo:Cores"] = "1" });
        Assert.Equal(1, sandbox.WorkerCount);
        Assert.Equal(1, inference.EffectiveIntraOpThreads);

        // Unset: every core this process sees, as the options say without it.
        (sandbox, inference) = Resolve([]);
        Assert.Equal(Environment.ProcessorCount, sandbox.WorkerCount);
        Assert.Equal(Math.Max(1, Environment.ProcessorCount / 2), inference.EffectiveIntraOpThreads);

        // The pools' own settings are kept.
        (sandbox, inference) = Resolve(new()
        {
            ["ArtGrid:Silo:Cores"] = "1",
            ["ArtGrid:Preprocessing:Sandbox:Workers"] = "3",
            ["ArtGrid:Inference:IntraOpThreads"] = "5",
        });
        Assert.Equal(3, sandbox.WorkerCount);
        Assert.Equal(5, inference.EffectiveIntraOpThreads);
    }

    [Fact]
    public void AShareOfNoCoresIsRefusedWithItsName()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ArtGrid:Silo:Cores"] = "0" }).Build();

        var ex = Assert.Throws<OptionsValidationException>(() => ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(configuration, SiloOptions.SectionName));
        Assert.Contains(ex.Failures, f => f.Contains("Cores", StringComparison.Ordinal));
    }

    private static (DecodeSandboxOptions Sandbox, InferenceOptions Inference) Resolve(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddArtGridGrainServices();
        using ServiceProvider provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<IOptions<DecodeSandboxOptions>>().Value, provider.GetRequiredService<IOptions<InferenceOptions>>().Value);
    }
}
