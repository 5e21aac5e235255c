using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging;

/// <summary>
/// Draws a class activation map so that a person sees where the classifier found its evidence: the map is upsampled
/// bilinearly, each cell's logit is read as a probability (sigmoid) and coloured on the jet scale (blue 0, green 0.5,
/// red 1: red where that part alone would be called AI), at 45% opacity, over the image it explains
/// (<see cref="Write"/>, <see cref="Draw"/>) or as a transparent layer to lay over it (<see cref="Layer"/>).
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
        Sampler sampler = new(map, image.Width, image.Height);
        image.ProcessPixelRows(accessor =>
        {
            for (int y = 0; y < accessor.Height; y++)
            {
                Span<Rgb24> pixels = accessor.GetRowSpan(y);
                ReadOnlySpan<float> probabilities = sampler.Row(y);
                for (int x = 0; x < pixels.Length; x++)
                {
                    (float r, float g, float b) = Jet(probabilities[x]);
                    ref Rgb24 p = ref pixels[x];
                    p = new Rgb24(Blend(p.R, r, opacity), Blend(p.G, g, opacity), Blend(p.B, b, opacity));
                }
            }
        });
    }

    /// <summary>
    /// The map alone, <paramref name="width"/> x <paramref name="height"/>, coloured and with <see cref="Opacity"/> as
    /// its alpha: what a client lays over its own copy of the image, stretched to the image's size.
    /// </summary>
    public static Image<Rgba32> Layer(ActivationMap map, int width, int height)
    {
        var image = new Image<Rgba32>(width, height);
        Sampler sampler = new(map, width, height);
        byte alpha = (byte)MathF.Round(Opacity * 255);
        image.ProcessPixelRows(accessor =>
        {
            for (int y = 0; y < accessor.Height; y++)
            {
                Span<Rgba32> pixels = accessor.GetRowSpan(y);
                ReadOnlySpan<float> probabilities = sampler.Row(y);
                for (int x = 0; x < pixels.Length; x++)
                {
                    (float r, float g, float b) = Jet(probabilities[x]);
                    pixels[x] = new Rgba32(ToByte(r), ToByte(g), ToByte(b), alpha);
                }
            }
        });
        return image;
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

    private static byte ToByte(float colour) => (byte)Math.Clamp(MathF.Round(255f * colour), 0, 255);

    /// <summary>The map upsampled bilinearly to a pixel grid, one row at a time, as probabilities (sigmoid of the logit).</summary>
    private sealed class Sampler
    {
        private readonly ActivationMap _map;
        private readonly Sample[] _columns;
        private readonly Sample[] _rows;
        private readonly float[] _line;
        private readonly float[] _row;

        public Sampler(ActivationMap map, int width, int height)
        {
            if (map.Logits.Length != map.Height * map.Width || map.Height < 1 || map.Width < 1)
            {
                throw new ArgumentException($"The map claims {map.Height}x{map.Width} cells but holds {map.Logits.Length} values.", nameof(map));
            }

            _map = map;
            _columns = Axis(width, map.Width);
            _rows = Axis(height, map.Height);
            _line = new float[map.Width];
            _row = new float[width];
        }

        public ReadOnlySpan<float> Row(int y)
        {
            Sample row = _rows[y];
            for (int i = 0; i < _map.Width; i++)
            {
                _line[i] = ((1 - row.Weight) * _map[row.Low, i]) + (row.Weight * _map[row.High, i]);
            }

            for (int x = 0; x < _row.Length; x++)
            {
                Sample column = _columns[x];
                float logit = ((1 - column.Weight) * _line[column.Low]) + (column.Weight * _line[column.High]);
                _row[x] = (float)(1.0 / (1.0 + Math.Exp(-logit)));
            }

            return _row;
        }

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
}
