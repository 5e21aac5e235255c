namespace ArtGrid.Training;

/// <summary>
/// Reads a data set's image files. A data set kept in git may store a symbolic link as a small text file holding the
/// link's target (a checkout with symlinks turned off does this; open-v2 keeps v1's images so): such a file is followed,
/// relative to its own folder, as the link would have been.
/// </summary>
public static class DatasetFiles
{
    /// <summary>Longer than any relative link a data set writes; shorter than any image.</summary>
    private const int MaxLinkBytes = 512;

    public static byte[] ReadAllBytes(string path)
    {
        for (int hops = 0; ; hops++)
        {
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0 || bytes.Length > MaxLinkBytes || hops == 8 || LinkTarget(bytes) is not { } target)
            {
                return bytes;
            }

            string resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, target));
            if (!File.Exists(resolved))
            {
                return bytes;
            }

            path = resolved;
        }
    }

    // One line of printable ASCII naming a relative path with a file extension: what git writes for a symlink.
    private static string? LinkTarget(byte[] bytes)
    {
        if (bytes.Any(b => b is < 0x20 or > 0x7e))
        {
            return null;
        }

        string text = System.Text.Encoding.ASCII.GetString(bytes);
        return !Path.IsPathRooted(text) && Path.HasExtension(text) ? text : null;
    }
}
