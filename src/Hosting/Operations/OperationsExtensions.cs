using ArtGrid.Hosting.Messaging;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ArtGrid.Hosting.Operations;

/// <summary>
/// What operations see of any ArtGrid host, in one place so that the silos and the gateway answer alike: health
/// (<c>/health/live</c>, <c>/health/ready</c>), Prometheus metrics (<c>/metrics</c>), traces that follow a job from
/// the HTTP request or bus message through the grains, and OTLP export of metrics and traces when
/// <see cref="OtlpEndpointVariable"/> is set. A host registers its readiness conditions as ordinary health checks
/// tagged <see cref="ReadyTag"/> (<see cref="AddArtGridRedisPing"/> is one; MassTransit tags its bus check so itself).
/// </summary>
public static class OperationsExtensions
{
    /// <summary>The environment variable (OpenTelemetry's own) that turns OTLP export of metrics and traces on.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The tag of the health checks that <c>/health/ready</c> runs (MassTransit's bus check carries it too).</summary>
    public const string ReadyTag = "ready";

    public const string LivePath = "/health/live";

    public const string ReadyPath = "/health/ready";

    public const string MetricsPath = "/metrics";

    /// <summary>The activity sources traced: the bus, Orleans' grain calls (with <c>AddActivityPropagation</c>).</summary>
    public static readonly IReadOnlyList<string> ActivitySources = ["MassTransit", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    /// <summary>
    /// The meters served on <c>/metrics</c> and exported over OTLP, besides the .NET runtime's: ArtGrid's own, Orleans',
    /// ASP.NET Core's and Kestrel's (requests, connections) and HttpClient's (URL fetches).
    /// </summary>
    public static readonly IReadOnlyList<string> Meters =
    [
        ArtGridMeter.Name, "Microsoft.Orleans", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http",
    ];

    /// <summary>
    /// Health checks (add the host's own with <c>builder.Services.AddHealthChecks()</c> and <see cref="ReadyTag"/>),
    /// metrics for the Prometheus endpoint, and tracing. <paramref name="serviceName"/> names the service in exported
    /// telemetry ("artgrid-silo", "artgrid-gateway"); the instance is "ArtGrid:Silo:Name", else the machine's name.
    /// Spans are always started, so that trace context flows from a caller through the bus and the grains and JSON log
    /// lines carry its <c>TraceId</c>; they leave the process only when <see cref="OtlpEndpointVariable"/> is set (the
    /// standard OTEL_* variables then apply: protocol, headers, export interval).
    /// </summary>
    public static IHostApplicationBuilder AddArtGridObservability(this IHostApplicationBuilder builder, string serviceName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        bool otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        string instance = builder.Configuration[$"{SiloOptions.SectionName}:{nameof(SiloOptions.Name)}"] is { Length: > 0 } name ? name : Environment.MachineName;
        builder.Services.AddHealthChecks();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: instance))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter([.. Meters]).AddRuntimeInstrumentation().AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            })
            .WithTracing(tracing =>
            {
                // Probes and scrapes every few seconds would drown the requests that matter.
                tracing.AddAspNetCoreInstrumentation(o => o.Filter = context => !IsOperationsPath(context.Request.Path))
                    .AddHttpClientInstrumentation()
                    .AddSource([.. ActivitySources]);
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            });
        return builder;
    }

    /// <summary>
    /// A readiness check that Redis answers PING on the host's shared connection (<see cref="RedisConnection"/>, from
    /// <see cref="MessagingServiceCollectionExtensions.AddArtGridRedis"/>), tagged <see cref="ReadyTag"/>. Its
    /// description names the endpoints, never the password.
    /// </summary>
    public static IHealthChecksBuilder AddArtGridRedisPing(this IHealthChecksBuilder checks, string name = "redis") =>
        checks.AddCheck<RedisPingHealthCheck>(name, HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(5));

    /// <summary>
    /// Makes the bus's health a readiness check: MassTransit registers one per bus ("masstransit-bus", Unhealthy until
    /// the broker connection and every receive endpoint are up); tagged <see cref="ReadyTag"/> here rather than trusting
    /// its default tags. Call it inside <c>AddMassTransit</c>.
    /// </summary>
    public static IBusRegistrationConfigurator AddArtGridReadiness(this IBusRegistrationConfigurator transit)
    {
        transit.ConfigureHealthCheckOptions(o => o.Tags.Add(ReadyTag));
        return transit;
    }

    /// <summary>
    /// <c>GET /health/live</c>: 200 while the process answers (it runs no check). <c>GET /health/ready</c>: 200 when every
    /// check tagged <see cref="ReadyTag"/> is Healthy, else 503 (Degraded counts as not ready); both answer JSON naming
    /// each check with its status and description. <c>GET /metrics</c>: the Prometheus text format of
    /// <see cref="Meters"/> and the runtime's, behind <paramref name="metricsPolicy"/> when one is named (the gateway's
    /// admin scope: a public port serves nothing operational to anyone). Needs <see cref="AddArtGridObservability"/>.
    /// </summary>
    public static WebApplication MapArtGridOperations(this WebApplication app, string? metricsPolicy = null)
    {
        app.MapHealthChecks(LivePath, new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = HealthReportJson.WriteAsync,
        });
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(ReadyTag),
            ResponseWriter = HealthReportJson.WriteAsync,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        IEndpointConventionBuilder metrics = app.MapPrometheusScrapingEndpoint(MetricsPath);
        if (metricsPolicy is not null)
        {
            metrics.RequireAuthorization(metricsPolicy);
        }

        return app;
    }

    private static bool IsOperationsPath(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase);
}
