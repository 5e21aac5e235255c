using ArtGrid.Hosting;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.Hosting;

public sealed class GracefulShutdownTests
{
    [Theory]
    [InlineData(null, 60, 30, 45)]
    [InlineData("20", 20, 10, 15)]
    public void TheDrainBudgetIsTheHostsShutdownTimeout_ConsumersGetHalf_AndTheBusThreeQuarters(string? seconds, int host, int consumers, int bus)
    {
        SiloOptions silo = Read(seconds is null ? [] : new() { ["ArtGrid:Silo:ShutdownSeconds"] = seconds });
        using ServiceProvider services = new ServiceCollection().AddArtGridGracefulShutdown(silo).BuildServiceProvider();

        Assert.Equal(TimeSpan.FromSeconds(host), services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        MassTransitHostOptions transit = services.GetRequiredService<IOptions<MassTransitHostOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(consumers), transit.ConsumerStopTimeout);
        Assert.Equal(TimeSpan.FromSeconds(bus), transit.StopTimeout);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    public void ANoneOrNegativeBudgetIsRefusedWithItsName(string seconds)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Read(new() { ["ArtGrid:Silo:ShutdownSeconds"] = seconds }));

        Assert.Contains(ex.Failures, f => f.Contains("ShutdownSeconds", StringComparison.Ordinal));
    }

    private static SiloOptions Read(Dictionary<string, string?> values) =>
        ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), SiloOptions.SectionName);
}
