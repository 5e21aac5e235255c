using System.Security.Cryptography;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Tests.Cluster;

/// <summary>Real images with distinct bytes, in any number, for the tests that send jobs to a cluster.</summary>
public static class TestImages
{
    /// <summary>
    /// <paramref name="count"/> different real images: the samples, resized and each marked with a row of pixels of
    /// its own (from <paramref name="runId"/>, the seed and the index), re-encoded as JPEG: distinct bytes, so distinct
    /// content hashes, never seen by the Redis cache of an earlier run.
    /// </summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> Distinct(string runId, int count, int seed)
    {
        Image<Rgb24>[] bases = [.. TestAssets.SampleImages.Select(path =>
        {
            Image<Rgb24> image = Image.Load<Rgb24>(path);
            image.Mutate(x => x.Resize(160, 0));
            return image;
        })];
        try
        {
            var images = new (string, byte[])[count];
            for (int i = 0; i < count; i++)
            {
                using Image<Rgb24> copy = bases[i % bases.Length].Clone();
                ulong mark = BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"{runId}/{seed}/{i}")));
                for (int b = 0; b < 64; b++)
                {
                    copy[b, 0] = ((mark >> b) & 1) == 1 ? new Rgb24(255, 255, 255) : new Rgb24(0, 0, 0);
                }

                using var stream = new MemoryStream();
                copy.Save(stream, new JpegEncoder { Quality = 90 });
                images[i] = ($"img-{seed}-{i}.jpg", stream.ToArray());
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
}
