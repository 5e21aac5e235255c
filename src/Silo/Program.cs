using ArtGrid.Hosting;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Hosting.Operations;

// The cluster's silo: cluster mode when "ConnectionStrings:Redis" is set, else a standalone embedded silo; either way
// /health/live, /health/ready and /metrics on ArtGrid:Silo:HttpPort.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddArtGridSilo(builder.Configuration.ConfiguredSiloMode());
WebApplication app = builder.Build();
app.MapArtGridOperations();
try
{
    await app.RunAsync();
}
catch (Exception ex) when (ScoreQueue.IsMismatch(ex))
{
    // Logged, with the migration to run, by the check that refused to start: a set-up error, not a crash.
    return 3;
}

return 0;
