using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Training;

/// <summary>
/// What a platform does to an upload before ArtGrid sees it, applied to held-out images to measure whether a model's
/// evidence survives: re-compression and downscaling both erase the finest traces of generation.
/// </summary>
public static class RobustnessTransforms
{
    /// <summary>The named transforms the training report measures.</summary>
    public static readonly IReadOnlyDictionary<string, Func<byte[], byte[]>> Standard = new Dictionary<string, Func<byte[], byte[]>>(StringComparer.Ordinal)
    {
        ["jpeg75"] = bytes => Jpeg(bytes, 75),
        ["half"] = bytes => Downscale(bytes, 0.5),
    };

    /// <summary>Decoded and saved again as JPEG at <paramref name="quality"/> (4:2:0).</summary>
    public static byte[] Jpeg(byte[] bytes, int quality)
    {
        using Image<Rgb24> image = Image.Load<Rgb24>(bytes);
        return Encode(image, quality);
    }

    /// <summary>Both sides times <paramref name="factor"/> (bicubic), then JPEG at quality 92 as the training set was stored.</summary>
    public static byte[] Downscale(byte[] bytes, double factor)
    {
        using Image<Rgb24> image = Image.Load<Rgb24>(bytes);
        image.Mutate(x => x.Resize(Math.Max(1, (int)Math.Round(image.Width * factor)), Math.Max(1, (int)Math.Round(image.Height * factor)), KnownResamplers.Bicubic));
        return Encode(image, 92);
    }

    private static byte[] Encode(Image<Rgb24> image, int quality)
    {
        using var output = new MemoryStream();
        image.SaveAsJpeg(output, new JpegEncoder { Quality = quality, ColorType = JpegColorType.YCbCrRatio420 });
        return output.ToArray();
    }
}
