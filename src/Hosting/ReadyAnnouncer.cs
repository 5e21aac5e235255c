using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace ArtGrid.Hosting;

/// <summary>Logs "ArtGrid silo ready" once every hosted service (Orleans, the bus) has started: scripts wait for it.</summary>
internal sealed partial class ReadyAnnouncer(ILocalSiloDetails silo, SiloAddresses addresses, IHostApplicationLifetime lifetime, ILogger<ReadyAnnouncer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => LogReady(silo.Name, silo.SiloAddress.ToString(), silo.GatewayAddress?.ToString() ?? "none", addresses.Listen.ToString(), addresses.Http.ToString()));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "ArtGrid silo ready: {Name} at {Address}, gateway {Gateway}, listening on {Listen}, operations on {Http}")]
    private partial void LogReady(string name, string address, string gateway, string listen, string http);
}
