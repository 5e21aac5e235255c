using System.Buffers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Grains.Imaging;

/// <summary>Packs an image already resized to the model's input size into a float tensor (one image, no batch dimension).</summary>
public static class TensorPacker
{
    public static float[] Pack(Image<Rgb24> image, ModelInputSpec spec)
    {
        var tensor = new float[spec.ElementCount];
        Pack(image, spec, tensor);
        return tensor;
    }

    public static void Pack(Image<Rgb24> image, ModelInputSpec spec, Span<float> destination)
    {
        if (image.Width != spec.Width || image.Height != spec.Height)
        {
            throw new ArgumentException($"Image is {image.Width}x{image.Height}, the model wants {spec.Width}x{spec.Height}.", nameof(image));
        }

        int count = spec.Width * spec.Height;
        Rgb24[] pixels = ArrayPool<Rgb24>.Shared.Rent(count);
        try
        {
            image.CopyPixelDataTo(pixels.AsSpan(0, count));
            Pack(pixels.AsSpan(0, count), spec, destination);
        }
        finally
        {
            ArrayPool<Rgb24>.Shared.Return(pixels);
        }
    }

    /// <summary>value = (pixel * scale - mean) / std, in the model's channel order and layout.</summary>
    public static void Pack(ReadOnlySpan<Rgb24> pixels, ModelInputSpec spec, Span<float> destination)
    {
        int plane = spec.Width * spec.Height;
        if (pixels.Length != plane || destination.Length != spec.ElementCount)
        {
            throw new ArgumentException($"Expected {plane} pixels into {spec.ElementCount} floats, got {pixels.Length} into {destination.Length}.");
        }

        bool bgr = spec.ChannelOrder == ChannelOrder.Bgr;
        bool planar = spec.Layout == TensorLayout.Nchw;
        float[]? meanImage = spec.MeanImage;
        float inv0 = 1f / spec.Std[0], inv1 = 1f / spec.Std[1], inv2 = 1f / spec.Std[2];

        for (int i = 0; i < plane; i++)
        {
            Rgb24 p = pixels[i];
            float m0, m1, m2;
            if (meanImage is null)
            {
                m0 = spec.Mean[0];
                m1 = spec.Mean[1];
                m2 = spec.Mean[2];
            }
            else
            {
                m0 = meanImage[i];
                m1 = meanImage[plane + i];
                m2 = meanImage[2 * plane + i];
            }

            // Model channel 0 is blue in BGR order, red in RGB order; channel 2 the other way round.
            float v0 = ((bgr ? p.B : p.R) * spec.Scale - m0) * inv0;
            float v1 = (p.G * spec.Scale - m1) * inv1;
            float v2 = ((bgr ? p.R : p.B) * spec.Scale - m2) * inv2;
            if (planar)
            {
                destination[i] = v0;
                destination[plane + i] = v1;
                destination[2 * plane + i] = v2;
            }
            else
            {
                destination[3 * i] = v0;
                destination[3 * i + 1] = v1;
                destination[3 * i + 2] = v2;
            }
        }
    }
}
