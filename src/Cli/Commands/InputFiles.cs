using ArtGrid.Imaging;

namespace ArtGrid.Cli.Commands;

/// <summary>Turns command-line paths into the ordered list of files to score.</summary>
public static class InputFiles
{
    /// <summary>
    /// Files named on the command line are taken whatever their extension; folders are walked recursively (in
    /// ordinal order, hidden entries skipped) for image extensions, TIFF included so that it is refused visibly.
    /// </summary>
    /// <summary>
    /// <see cref="Expand"/>, or null after telling stderr why not ("artgrid {command}: …"): the caller exits with
    /// <see cref="ExitCodes.Usage"/>.
    /// </summary>
    public static async Task<IReadOnlyList<string>?> ExpandOrReportAsync(IEnumerable<string> paths, string command)
    {
        try
        {
            return Expand(paths);
        }
        catch (UsageException ex)
        {
            await Console.Error.WriteLineAsync($"artgrid {command}: {ex.Message}");
            return null;
        }
    }

    public static IReadOnlyList<string> Expand(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (File.Exists(path))
            {
                files.Add(path);
            }
            else if (Directory.Exists(path))
            {
                files.AddRange(Walk(path));
            }
            else
            {
                throw new UsageException($"No such file or folder: {path}");
            }
        }

        return files;
    }

    private static IEnumerable<string> Walk(string folder)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System, IgnoreInaccessible = true };
        foreach (string file in Directory.EnumerateFiles(folder, "*", options).Order(StringComparer.Ordinal))
        {
            if (ImageFormats.ScannedExtensions.Contains(Path.GetExtension(file)) && !Path.GetFileName(file).StartsWith('.'))
            {
                yield return file;
            }
        }

        foreach (string sub in Directory.EnumerateDirectories(folder, "*", options).Order(StringComparer.Ordinal))
        {
            if (!Path.GetFileName(sub).StartsWith('.'))
            {
                foreach (string file in Walk(sub))
                {
                    yield return file;
                }
            }
        }
    }
}
