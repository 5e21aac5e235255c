namespace ArtGrid.Cli.Commands;

/// <summary>
/// Names of the activation-map PNGs of one run, one per input file: "{file name}.map.png" in the maps folder, with
/// "-2", "-3"... before ".map.png" when two inputs share a file name; never the path of an input.
/// </summary>
public sealed class MapFileNames(string folder, IEnumerable<string> inputs)
{
    private readonly HashSet<string> _taken = new(inputs.Select(Path.GetFullPath), StringComparer.OrdinalIgnoreCase);

    public string Folder { get; } = folder;

    /// <summary>A path of the maps folder that no earlier call of this run returned.</summary>
    public string Next(string input)
    {
        string name = Path.GetFileName(input);
        string path = Path.Combine(Folder, $"{name}.map.png");
        for (int n = 2; !_taken.Add(Path.GetFullPath(path)); n++)
        {
            path = Path.Combine(Folder, $"{name}-{n}.map.png");
        }

        return path;
    }
}
