using ArtGrid.Inference.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace ArtGrid.Hosting;

public static class TelemetryExtensions
{
    /// <summary>The environment variable (OpenTelemetry's own) that turns metric export on.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Exports the "ArtGrid" meter (per device: queue depth, batch sizes, queue delay, compute time, rejections; images by
    /// outcome; decode times) and Orleans' own meter over OTLP when <see cref="OtlpEndpointVariable"/> is set, with the
    /// silo's name as the service instance. The standard OTEL_* variables (protocol, headers, export interval) apply.
    /// Without the variable nothing is exported and nothing is collected beyond the in-process instruments.
    /// </summary>
    public static IHostApplicationBuilder AddArtGridTelemetry(this IHostApplicationBuilder builder, string serviceName)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]))
        {
            return builder;
        }

        string instance = builder.Configuration[$"{SiloOptions.SectionName}:{nameof(SiloOptions.Name)}"] ?? Environment.MachineName;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: instance))
            .WithMetrics(metrics => metrics
                .AddMeter(ArtGridMeter.Name)
                .AddMeter("Microsoft.Orleans")
                .AddOtlpExporter());
        return builder;
    }
}
