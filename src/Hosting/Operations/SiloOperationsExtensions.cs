using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ArtGrid.Hosting.Operations;

/// <summary>The silo's side of operations: its readiness checks and the listener that serves them.</summary>
internal static class SiloOperationsExtensions
{
    /// <summary>
    /// Readiness of a silo: an Active member of its cluster, and the active model version loaded here; in cluster mode
    /// also Redis answering PING (<see cref="OperationsExtensions.AddArtGridRedisPing"/>) and the bus connected
    /// (MassTransit's own check, tagged by <see cref="OperationsExtensions.AddArtGridReadiness"/>).
    /// </summary>
    public static IHealthChecksBuilder AddArtGridSiloChecks(this IHealthChecksBuilder checks, SiloMode mode)
    {
        checks.AddCheck<SiloMembershipHealthCheck>("orleans-membership", tags: [OperationsExtensions.ReadyTag]);
        checks.AddCheck<ActiveModelHealthCheck>("active-model", tags: [OperationsExtensions.ReadyTag]);
        if (mode == SiloMode.Cluster)
        {
            checks.AddArtGridRedisPing();
        }

        return checks;
    }

    /// <summary>
    /// When the host is a web application (<c>artgrid-silo</c>), Kestrel listens on <see cref="SiloAddresses.Http"/>
    /// and "ArtGrid:Silo:HttpPort", and nowhere else (URLs from configuration are overridden). A host without a web
    /// server (the command line's embedded silo) has nothing that reads these options and opens no port.
    /// </summary>
    public static IHostApplicationBuilder AddArtGridSiloListener(this IHostApplicationBuilder builder, SiloAddresses addresses, int port)
    {
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Listen(addresses.Http, port));
        return builder;
    }
}
