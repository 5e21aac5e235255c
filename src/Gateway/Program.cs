using ArtGrid.Gateway;
using ArtGrid.Gateway.Security;

if (args is ["new-key", .. string[] scopes])
{
    return NewKeyCommand.Run(scopes);
}

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddArtGridGateway();
WebApplication app = builder.Build();
app.MapArtGridGateway();
await app.RunAsync();
return 0;
