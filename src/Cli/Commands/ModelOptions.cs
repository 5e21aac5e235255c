using System.CommandLine;

namespace ArtGrid.Cli.Commands;

/// <summary>The options every command that loads a model takes.</summary>
public static class ModelOptions
{
    /// <summary><c>--models DIR</c>.</summary>
    public static Option<string?> Models() => new("--models") { Description = "Model repository folder (default: the one shipped beside the program)." };

    /// <summary><c>--model NAME[/VERSION]</c>.</summary>
    public static Option<string?> Model() => new("--model") { Description = "Model as NAME or NAME/VERSION (default: artgrid-resnet18, newest version)." };
}
