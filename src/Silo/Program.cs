using ArtGrid.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.AddArtGridConsoleLogging(LogLevel.Information);
builder.AddArtGridTelemetry("artgrid-silo");
if (builder.Configuration.GetConnectionString("Redis") is { Length: > 0 })
{
    builder.AddArtGridCluster();
}
else
{
    builder.AddArtGridEmbedded();
}

await builder.Build().RunAsync();
