using ArtGrid.Gateway;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddArtGridGateway();
WebApplication app = builder.Build();
app.MapArtGridJobs();
app.MapArtGridModels();
app.Run();
