using ArtGrid.Hosting;
using ArtGrid.Hosting.Operations;

// The cluster's silo: cluster mode when "ConnectionStrings:Redis" is set, else a standalone embedded silo; either way
// /health/live, /health/ready and /metrics on ArtGrid:Silo:HttpPort.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddArtGridSilo(builder.Configuration.ConfiguredSiloMode());
WebApplication app = builder.Build();
app.MapArtGridOperations();
await app.RunAsync();
