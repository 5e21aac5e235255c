using System.Security.Cryptography;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Bench;

/// <summary>Real images that no result cache has seen, for the benches that send jobs through a cluster.</summary>
internal static class BenchImages
{
    /// <summary>
    /// <paramref name="count"/> different real images: the samples, each marked with a row of pixels of its own (from
    /// the run's id, the set and the index) and re-encoded as JPEG, so that their content hashes are new to the result
    /// cache. Image i of every set starts from the same sample, so that sets cost the same to decode and score.
    /// </summary>
    public static List<(string Name, byte[] Bytes)> Distinct(string runId, string set, int count)
    {
        string samples = Path.Combine(PhotoMix.RepositoryRoot(), "samples");
        string[] paths = [.. Directory.EnumerateFiles(samples, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
        if (paths.Length == 0)
        {
            throw new SetupException($"no .jpg images under {samples}");
        }

        Image<Rgb24>[] bases = [.. paths.Select(Image.Load<Rgb24>)];
        try
        {
            var images = new List<(string, byte[])>(count);
            for (int i = 0; i < count; i++)
            {
                using Image<Rgb24> copy = bases[i % bases.Length].Clone();
                ulong mark = BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"{runId}/{set}/{i}")));
                for (int b = 0; b < 64; b++)
                {
                    copy[b, 0] = ((mark >> b) & 1) == 1 ? new Rgb24(255, 255, 255) : new Rgb24(0, 0, 0);
                }

                using var stream = new MemoryStream();
                copy.Save(stream, new JpegEncoder { Quality = 90 });
                images.Add(($"{set}-{i}-{Path.GetFileName(paths[i % paths.Length])}", stream.ToArray()));
            }

            return images;
        }
        finally
        {
            foreach (Image<Rgb24> image in bases)
            {
                image.Dispose();
            }
        }
    }


    /// <summary><see cref="Distinct"/>'s images written as files into <paramref name="folder"/>; their paths.</summary>
    public static List<string> WriteDistinct(string runId, string set, int count, string folder)
    {
        Directory.CreateDirectory(folder);
        var paths = new List<string>(count);
        foreach ((string name, byte[] bytes) in Distinct(runId, set, count))
        {
            string path = Path.Combine(folder, name);
            File.WriteAllBytes(path, bytes);
            paths.Add(path);
        }

        return paths;
    }
}
