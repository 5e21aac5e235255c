using ArtGrid.Hosting;
using Microsoft.Extensions.Hosting;

// The cluster's silo: cluster mode when "ConnectionStrings:Redis" is set, else a standalone embedded silo.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.AddArtGridSilo(builder.Configuration.ConfiguredSiloMode());
await builder.Build().RunAsync();
