using ArtGrid.Hosting;
using ArtGrid.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.Hosting;

/// <summary>Options are validated in one place per section, nested sections included, before a host runs.</summary>
public sealed class ArtGridOptionsTests
{
    [Fact]
    public void ABrokenNestedSectionIsRefusedWithItsName()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ArtGrid:Inference:MaxBatchSize"] = "8",
            ["ArtGrid:Inference:Cuda:MemoryLimitMib"] = "-1",
            ["ArtGrid:Inference:Simulated:BaseMs"] = "20000",
        }).Build();

        var ex = Assert.Throws<OptionsValidationException>(() => ArtGridOptions.Read<InferenceOptions, InferenceOptionsValidator>(configuration, InferenceOptions.SectionName));

        Assert.Contains(ex.Failures, f => f.Contains("MemoryLimitMib", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("BaseMs", StringComparison.Ordinal));
    }

    [Fact]
    public void TheSiloSectionIsReadAndCheckedWhileTheHostIsBuilt()
    {
        IConfiguration good = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ArtGrid:Silo:SiloPort"] = "11112" }).Build();
        IConfiguration bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ArtGrid:Silo:SiloPort"] = "70000" }).Build();

        Assert.Equal(11112, ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(good, SiloOptions.SectionName).SiloPort);
        var ex = Assert.Throws<OptionsValidationException>(() => ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(bad, SiloOptions.SectionName));
        Assert.Contains(ex.Failures, f => f.Contains("SiloPort", StringComparison.Ordinal));
    }
}
