using System.Net;
using System.Net.Sockets;
using ArtGrid.Grains;
using ArtGrid.Grains.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace ArtGrid.Hosting;

public static class HostingExtensions
{
    /// <summary>
    /// The embedded mode: one localhost silo in this process, the in-memory result cache, CPU inference.
    /// Ports come from "ArtGrid:Silo" (0, the default, picks free ones, so several runs can share a machine).
    /// </summary>
    public static IHostApplicationBuilder AddArtGridEmbedded(this IHostApplicationBuilder builder)
    {
        SiloOptions silo = ArtGridOptions.Read<SiloOptions, SiloOptionsValidator>(builder.Configuration, SiloOptions.SectionName);
        int siloPort = silo.SiloPort == 0 ? FreeTcpPort() : silo.SiloPort;
        int gatewayPort = silo.GatewayPort == 0 ? FreeTcpPort() : silo.GatewayPort;

        builder.UseOrleans(orleans =>
        {
            orleans.UseLocalhostClustering(siloPort, gatewayPort, serviceId: silo.ServiceId, clusterId: silo.ClusterId);
            orleans.AddArtGridInMemory();
            orleans.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(10));
        });
        return builder;
    }

    /// <summary>
    /// The grains with what they need, their state kept in this process's memory: grain services, this silo's devices
    /// (advertised, placed, routed) and memory storage for jobs, authors and the model catalog. The embedded mode, and
    /// clusters that live in one process (tests, benchmarks); a real cluster keeps that state in Redis.
    /// </summary>
    public static ISiloBuilder AddArtGridInMemory(this ISiloBuilder silo)
    {
        silo.Services.AddArtGridGrainServices();
        return silo.AddArtGridDevices()
            .AddMemoryGrainStorage(JobGrain.StorageName)
            .AddMemoryGrainStorage(AuthorGrain.StorageName)
            .AddMemoryGrainStorage(ModelCatalogGrain.StorageName);
    }

    /// <summary>
    /// Logs go to stderr, so that stdout carries only results. "ArtGrid:Logging:Format" chooses one line of text per
    /// entry (the default) or one JSON object per line (<see cref="LogFormat.Json"/>: UTC timestamps, scopes such as a
    /// job's <c>JobId</c>, and the <c>TraceId</c>/<c>SpanId</c> of the activity the entry was written in).
    /// </summary>
    public static IHostApplicationBuilder AddArtGridConsoleLogging(this IHostApplicationBuilder builder, LogLevel minimum)
    {
        LoggingOptions options = ArtGridOptions.Read<LoggingOptions, LoggingOptionsValidator>(builder.Configuration, LoggingOptions.SectionName);
        builder.Logging.ClearProviders();
        if (options.Format == LogFormat.Json)
        {
            builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }

        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(minimum);
        if (minimum > LogLevel.Information)
        {
            // Orleans' start-up advice (server GC, watchdog) is noise for a one-shot command.
            builder.Logging.AddFilter("Orleans", LogLevel.Error);
        }

        return builder;
    }

    internal static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
