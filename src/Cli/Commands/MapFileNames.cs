using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// Draws a class activation map over the image it explains, so that a person sees where the classifier found its
/// evidence: the map is upsampled bilinearly to the image's size, each cell's logit is read as a probability
/// (sigmoid) and coloured on the jet scale (blue 0, green 0.5, red 1: red where that part alone would be called AI),
/// blended at 45% opacity.
/// </summary>
public static class ActivationOverlay
{
    public const float Opacity = 0.45f;

    /// <summary>Draws the map over <paramref name="scored"/> (the image as it was scored) and saves a PNG.</summary>
    /// <returns>Null when written, else why not.</returns>
    public static string? Write(OrientedImage? scored, ActivationMap map, string pngPath)
    {
        if (scored is null)
        {
            return "the image as scored did not come back from the decoder";
        }

        using Image<Rgb24> image = Image.LoadPixelData<Rgb24>(scored.Rgb, scored.Width, scored.Height);
        Draw(image, map);
        image.SaveAsPng(pngPath);
        return null;
    }

    public static void Draw(Image<Rgb24> image, ActivationMap map, float opacity = Opacity)
    {
        if (map.Logits.Length != map.Height * map.Width || map.Height < 1 || map.Width < 1)
        {
            throw new ArgumentException($"The map claims {map.Height}x{map.Width} cells but holds {map.Logits.Length} values.", nameof(map));
        }

        Sample[] columns = Axis(image.Width, map.Width);
        Sample[] rows = Axis(image.Height, map.Height);
        var line = new float[map.Width];
        image.ProcessPixelRows(accessor =>
        {
            for (int y = 0; y < accessor.Height; y++)
            {
                Sample row = rows[y];
                for (int i = 0; i < map.Width; i++)
                {
                    line[i] = ((1 - row.Weight) * map[row.Low, i]) + (row.Weight * map[row.High, i]);
                }

                Span<Rgb24> pixels = accessor.GetRowSpan(y);
                for (int x = 0; x < pixels.Length; x++)
                {
                    Sample column = columns[x];
                    float logit = ((1 - column.Weight) * line[column.Low]) + (column.Weight * line[column.High]);
                    (float r, float g, float b) = Jet(1.0 / (1.0 + Math.Exp(-logit)));
                    ref Rgb24 p = ref pixels[x];
                    p = new Rgb24(Blend(p.R, r, opacity), Blend(p.G, g, opacity), Blend(p.B, b, opacity));
                }
            }
        });
    }

    /// <summary>The jet colour scale at <paramref name="t"/> in [0, 1], each channel in [0, 1].</summary>
    public static (float R, float G, float B) Jet(double t)
    {
        t = Math.Clamp(t, 0, 1);
        static float Ramp(double v) => (float)Math.Clamp(1.5 - Math.Abs(v), 0, 1);
        return (Ramp((4 * t) - 3), Ramp((4 * t) - 2), Ramp((4 * t) - 1));
    }

    private static byte Blend(byte pixel, float colour, float opacity) =>
        (byte)Math.Clamp(MathF.Round(((1 - opacity) * pixel) + (opacity * 255f * colour)), 0, 255);

    // For each of n pixels, the two map cells around its centre and the weight of the second: cell centres sit at
    // (i + 0.5) * n / cells (half-pixel alignment), clamped at the borders.
    private static Sample[] Axis(int n, int cells)
    {
        var samples = new Sample[n];
        for (int i = 0; i < n; i++)
        {
            double position = Math.Clamp(((i + 0.5) * cells / n) - 0.5, 0, cells - 1);
            int low = (int)Math.Floor(position);
            int high = Math.Min(low + 1, cells - 1);
            samples[i] = new Sample(low, high, (float)(position - low));
        }

        return samples;
    }

    private readonly record struct Sample(int Low, int High, float Weight);
}

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
