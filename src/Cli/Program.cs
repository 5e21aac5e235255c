using ArtGrid.Cli.Commands;
using ArtGrid.Hosting.Embedded;

return await ArtGridCommands.Build().Parse(args).InvokeAsync();
