using ArtGrid.Silo.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.AddArtGridConsoleLogging(LogLevel.Information);
builder.AddArtGridEmbedded();
await builder.Build().RunAsync();
