using ArtGrid.Gateway;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddArtGridClusterClient();
WebApplication app = builder.Build();
app.MapArtGridJobs();
app.Run();
