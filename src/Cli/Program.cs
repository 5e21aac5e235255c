using ArtGrid.Cli.Commands;

return await ArtGridCommands.Build().Parse(args).InvokeAsync();
