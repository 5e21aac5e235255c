using ArtGrid.Cli;
using ArtGrid.Cli.Commands;

return await CommandLineRunner.InvokeAsync(ArtGridCommands.Build(), args, Console.Out, Console.Error);
