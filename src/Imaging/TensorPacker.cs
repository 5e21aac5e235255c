using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging;

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

    /// <summary>
    /// value = (pixel * scale - mean) * (1 / std), in the model's channel order and layout. With one mean per channel
    /// a channel takes only 256 values, so they are computed once into a table (the same float operations, so the same
    /// bits) and packing is three lookups per pixel; a mean image needs the arithmetic per pixel.
    /// </summary>
    public static void Pack(ReadOnlySpan<Rgb24> pixels, ModelInputSpec spec, Span<float> destination)
    {
        int plane = spec.Width * spec.Height;
        if (pixels.Length != plane || destination.Length != spec.ElementCount)
        {
            throw new ArgumentException($"Expected {plane} pixels into {spec.ElementCount} floats, got {pixels.Length} into {destination.Length}.");
        }

        // Model channel 0 is blue in BGR order, red in RGB order; channel 2 the other way round.
        bool bgr = spec.ChannelOrder == ChannelOrder.Bgr;
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(pixels);
        int first = bgr ? 2 : 0, last = bgr ? 0 : 2;
        float scale = spec.Scale;
        float inv0 = 1f / spec.Std[0], inv1 = 1f / spec.Std[1], inv2 = 1f / spec.Std[2];

        if (spec.MeanImage is { } meanImage)
        {
            for (int i = 0; i < plane; i++)
            {
                float v0 = (bytes[(3 * i) + first] * scale - meanImage[i]) * inv0;
                float v1 = (bytes[(3 * i) + 1] * scale - meanImage[plane + i]) * inv1;
                float v2 = (bytes[(3 * i) + last] * scale - meanImage[(2 * plane) + i]) * inv2;
                Store(destination, spec.Layout, plane, i, v0, v1, v2);
            }

            return;
        }

        Span<float> table = stackalloc float[3 * 256];
        for (int x = 0; x < 256; x++)
        {
            table[x] = (x * scale - spec.Mean[0]) * inv0;
            table[256 + x] = (x * scale - spec.Mean[1]) * inv1;
            table[512 + x] = (x * scale - spec.Mean[2]) * inv2;
        }

        // Lengths were checked above (3 bytes and 3 floats per pixel; a byte indexes a 256-entry table), so the loops
        // go without bounds checks.
        ref float t0 = ref MemoryMarshal.GetReference(table);
        ref float t1 = ref Unsafe.Add(ref t0, 256);
        ref float t2 = ref Unsafe.Add(ref t0, 512);
        ref byte source = ref MemoryMarshal.GetReference(bytes);
        ref float d0 = ref MemoryMarshal.GetReference(destination);
        if (spec.Layout == TensorLayout.Nchw)
        {
            ref float d1 = ref Unsafe.Add(ref d0, plane);
            ref float d2 = ref Unsafe.Add(ref d0, 2 * plane);
            for (int i = 0; i < plane; i++)
            {
                ref byte p = ref Unsafe.Add(ref source, 3 * i);
                Unsafe.Add(ref d0, i) = Unsafe.Add(ref t0, Unsafe.Add(ref p, first));
                Unsafe.Add(ref d1, i) = Unsafe.Add(ref t1, Unsafe.Add(ref p, 1));
                Unsafe.Add(ref d2, i) = Unsafe.Add(ref t2, Unsafe.Add(ref p, last));
            }
        }
        else
        {
            for (int b = 0; b < 3 * plane; b += 3)
            {
                ref byte p = ref Unsafe.Add(ref source, b);
                Unsafe.Add(ref d0, b) = Unsafe.Add(ref t0, Unsafe.Add(ref p, first));
                Unsafe.Add(ref d0, b + 1) = Unsafe.Add(ref t1, Unsafe.Add(ref p, 1));
                Unsafe.Add(ref d0, b + 2) = Unsafe.Add(ref t2, Unsafe.Add(ref p, last));
            }
        }
    }

    private static void Store(Span<float> destination, TensorLayout layout, int plane, int i, float v0, float v1, float v2)
    {
        if (layout == TensorLayout.Nchw)
        {
            destination[i] = v0;
            destination[plane + i] = v1;
            destination[(2 * plane) + i] = v2;
        }
        else
        {
            destination[3 * i] = v0;
            destination[(3 * i) + 1] = v1;
            destination[(3 * i) + 2] = v2;
        }
    }
}
