using ArtGrid.Hosting.Operations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ArtGrid.Hosting;

public static class SiloHostingExtensions
{
    /// <summary>
    /// The mode configuration asks for: <see cref="SiloMode.Cluster"/> when "ConnectionStrings:Redis" is set, else
    /// <see cref="SiloMode.Embedded"/>.
    /// </summary>
    public static SiloMode ConfiguredSiloMode(this IConfiguration configuration) =>
        configuration.GetConnectionString("Redis") is { Length: > 0 } ? SiloMode.Cluster : SiloMode.Embedded;

    /// <summary>
    /// An ArtGrid silo in this host: logs to stderr, metrics, traces and readiness checks
    /// (<see cref="OperationsExtensions.AddArtGridObservability"/>), the embedded or cluster wiring
    /// (<see cref="HostingExtensions.AddArtGridEmbedded"/>, <see cref="ClusterHostingExtensions.AddArtGridCluster"/>), and,
    /// when the host is a web application, its operations listener on "ArtGrid:Silo:HttpPort" (serve it with
    /// <see cref="OperationsExtensions.MapArtGridOperations"/>). Every host that runs grains comes through here or
    /// through one of those two.
    /// </summary>
    public static IHostApplicationBuilder AddArtGridSilo(this IHostApplicationBuilder builder, SiloMode mode, string serviceName = "artgrid-silo")
    {
        SiloOptions silo = ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(builder.Configuration, SiloOptions.SectionName);
        builder.AddArtGridConsoleLogging(LogLevel.Information);
        builder.AddArtGridObservability(serviceName);
        builder.Services.AddHealthChecks().AddArtGridSiloChecks(mode);
        SiloAddresses addresses = SiloAddresses.Of(silo, mode, builder.Configuration);
        builder.Services.AddSingleton(addresses);
        builder.AddArtGridSiloListener(addresses, silo.HttpPort);
        return mode switch
        {
            SiloMode.Cluster => builder.AddArtGridCluster(addresses),
            _ => builder.AddArtGridEmbedded(),
        };
    }
}
