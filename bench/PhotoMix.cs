using System.Diagnostics;

namespace ArtGrid.Bench;

/// <summary>One photograph of the mix, in memory.</summary>
internal sealed record Photo(string Path, string SizeClass, byte[] Bytes, int Width, int Height)
{
    public bool IsJpeg => Bytes is [0xFF, 0xD8, ..];

    public double Megapixels => Width * (double)Height / 1e6;
}

/// <summary>
/// The realistic photograph mix that bench/photo-mix.sh builds from Debian's wallpaper package: 0.3 MP, 2 MP and 12 MP
/// JPEGs and 2 MP PNGs, one folder per size class.
/// </summary>
internal static class PhotoMix
{
    public static readonly string[] Classes = ["0.3mp", "2mp", "12mp", "png"];

    /// <summary>The folder given, or the cached mix under <paramref name="cache"/>, built by the script the first time.</summary>
    public static async Task<string> EnsureAsync(string? given, string cache)
    {
        if (given is not null)
        {
            return Directory.Exists(given) ? given : throw new DirectoryNotFoundException($"--photos {given}: no such folder.");
        }

        if (Classes.All(c => Directory.Exists(Path.Combine(cache, c)) && Directory.EnumerateFiles(Path.Combine(cache, c)).Any()))
        {
            return cache;
        }

        string script = Path.Combine(RepositoryRoot(), "bench", "photo-mix.sh");
        Console.Error.WriteLine($"No --photos given: building the photograph mix once into {cache} with bench/photo-mix.sh (downloads Debian's plasma-workspace-wallpapers; needs apt-get and libvips-tools).");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(cache);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"bench/photo-mix.sh failed (exit {process.ExitCode}); pass --photos DIR with folders {string.Join(", ", Classes)}.");
        }

        Console.Error.WriteLine(output.Trim());
        return cache;
    }

    public static List<Photo> Load(string folder)
    {
        var photos = new List<Photo>();
        foreach (string sizeClass in Classes)
        {
            string dir = Path.Combine(folder, sizeClass);
            if (!Directory.Exists(dir))
            {
                throw new DirectoryNotFoundException($"{folder} has no {sizeClass}/ folder (bench/photo-mix.sh writes {string.Join(", ", Classes)}).");
            }

            foreach (string file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
            {
                byte[] bytes = File.ReadAllBytes(file);
                SixLabors.ImageSharp.IImageInfo info = SixLabors.ImageSharp.Image.Identify(bytes) ?? throw new InvalidDataException($"{file}: not an image");
                photos.Add(new Photo(Path.GetFullPath(file), sizeClass, bytes, info.Width, info.Height));
            }
        }

        return photos;
    }

    /// <summary>
    /// Writes <paramref name="copies"/> copies of each photo into <paramref name="folder"/>, each made unique by 16 bytes
    /// after its end marker (which decoders ignore), so that the result cache, keyed by content, never answers.
    /// </summary>
    public static List<string> WriteUniqueCopies(IReadOnlyList<Photo> photos, int copies, string folder)
    {
        Directory.CreateDirectory(folder);
        var paths = new List<string>();
        for (int copy = 0; copy < copies; copy++)
        {
            foreach (Photo photo in photos)
            {
                string path = System.IO.Path.Combine(folder, $"{Guid.NewGuid():N}{System.IO.Path.GetExtension(photo.Path)}");
                using (FileStream stream = File.Create(path))
                {
                    stream.Write(photo.Bytes);
                    stream.Write(Guid.NewGuid().ToByteArray());
                }

                paths.Add(path);
            }
        }

        return paths;
    }

    /// <summary>The repository root: the nearest folder above the working directory, or above the program, that holds bench/photo-mix.sh.</summary>
    public static string RepositoryRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "bench", "photo-mix.sh")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("Run from inside the ArtGrid repository (bench/photo-mix.sh not found above the working directory).");
    }
}
