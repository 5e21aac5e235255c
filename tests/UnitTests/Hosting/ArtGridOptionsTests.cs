using System.Net;
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

    [Fact]
    public void TheOperationsListenerDefaultsTo8081WhereTheSiloListens()
    {
        static SiloAddresses Addresses(Dictionary<string, string?> settings) =>
            SiloAddresses.Of(ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(Configuration(settings), SiloOptions.SectionName), () => IPAddress.Parse("192.0.2.7"));

        SiloOptions defaults = ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(Configuration([]), SiloOptions.SectionName);
        Assert.Equal(8081, defaults.HttpPort);
        // Nothing configured: the discovered address, for all three.
        Assert.Equal(new SiloAddresses(IPAddress.Parse("192.0.2.7"), IPAddress.Parse("192.0.2.7"), IPAddress.Parse("192.0.2.7")), Addresses([]));
        Assert.Equal(
            new SiloAddresses(IPAddress.Parse("10.0.0.5"), IPAddress.Parse("10.0.0.5"), IPAddress.Parse("10.0.0.5")),
            Addresses(new() { ["ArtGrid:Silo:AdvertisedAddress"] = "10.0.0.5" }));
        Assert.Equal(
            new SiloAddresses(IPAddress.Parse("10.0.0.5"), IPAddress.Any, IPAddress.Any),
            Addresses(new() { ["ArtGrid:Silo:AdvertisedAddress"] = "10.0.0.5", ["ArtGrid:Silo:ListenAddress"] = "0.0.0.0" }));
        Assert.Equal(
            new SiloAddresses(IPAddress.Parse("10.0.0.5"), IPAddress.Parse("10.0.0.5"), IPAddress.Any),
            Addresses(new() { ["ArtGrid:Silo:AdvertisedAddress"] = "10.0.0.5", ["ArtGrid:Silo:HttpAddress"] = "0.0.0.0" }));
    }

    [Theory]
    [InlineData("ArtGrid:Silo:HttpPort", "0", "HttpPort")]
    [InlineData("ArtGrid:Silo:HttpPort", "65536", "HttpPort")]
    [InlineData("ArtGrid:Silo:HttpAddress", "localhost", "HttpAddress")]
    [InlineData("ArtGrid:Silo:AdvertisedAddress", "silo-1.example", "AdvertisedAddress")]
    [InlineData("ArtGrid:Silo:ListenAddress", "any", "ListenAddress")]
    public void ABrokenListenerSettingIsRefusedWithItsName(string key, string value, string named)
    {
        var ex = Assert.Throws<OptionsValidationException>(() =>
            ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(Configuration(new() { [key] = value }), SiloOptions.SectionName));

        Assert.Contains(ex.Failures, f => f.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public void TheLogFormatIsTextUnlessJsonIsAsked_AndNothingElseIsTaken()
    {
        Assert.Equal(LogFormat.Text, ArtGridOptions.Read<LoggingOptions, LoggingOptionsValidator>(Configuration([]), LoggingOptions.SectionName).Format);
        Assert.Equal(LogFormat.Json, ArtGridOptions.Read<LoggingOptions, LoggingOptionsValidator>(Configuration(new() { ["ArtGrid:Logging:Format"] = "json" }), LoggingOptions.SectionName).Format);
        // A number that names no format passes the binder; the validator refuses it.
        var ex = Assert.Throws<OptionsValidationException>(() =>
            ArtGridOptions.Read<LoggingOptions, LoggingOptionsValidator>(Configuration(new() { ["ArtGrid:Logging:Format"] = "7" }), LoggingOptions.SectionName));
        Assert.Contains(ex.Failures, f => f.Contains("Format", StringComparison.Ordinal));
        Assert.Throws<InvalidOperationException>(() =>
            ArtGridOptions.Read<LoggingOptions, LoggingOptionsValidator>(Configuration(new() { ["ArtGrid:Logging:Format"] = "xml" }), LoggingOptions.SectionName));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
