using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging.Provenance;

/// <summary>
/// The invisible watermark of the Stable Diffusion reference scripts and SDXL pipelines (the "invisible-watermark"
/// package's DWT-DCT method): in the U and V planes of YUV, one level of Haar DWT, then 4x4 DCT blocks of the
/// approximation band; each block carries one bit (cycling through the message) in the parity of its largest AC
/// coefficient quantised by 36. Decoding averages each bit's votes over every block and both planes.
/// </summary>
public static class DwtDctWatermark
{
    public const int Block = 4;
    public const double Scale = 36;

    /// <summary>"StableDiffusionV1" as bytes, most significant bit first: the mark of the SD 1.x/2.x reference scripts.</summary>
    public static readonly bool[] StableDiffusionV1 = Bits("StableDiffusionV1"u8);

    /// <summary>The 48-bit message of Stability AI's SDXL pipelines.</summary>
    public static readonly bool[] Sdxl = [.. Convert.ToString(0b101100111110110010010000011110111011000110011110L, 2).Select(c => c == '1')];

    public static bool[] Bits(ReadOnlySpan<byte> bytes)
    {
        var bits = new bool[bytes.Length * 8];
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] = ((bytes[i / 8] >> (7 - (i % 8))) & 1) == 1;
        }

        return bits;
    }

    /// <summary>
    /// The average vote (0..1) of each bit, for messages of each of <paramref name="lengths"/> bits, in one pass; null for
    /// images too small to carry a block.
    /// </summary>
    /// <remarks>
    /// One streaming pass over strips of 8 pixel rows (one row of 4x4 blocks of the half-size approximation band): the
    /// Haar approximation of U and V is computed straight from the pixel rows into two strip buffers, then each block's
    /// DCT in stack memory, so nothing of image size is allocated. The arithmetic is that of the plane-by-plane
    /// algorithm that <see cref="Embed"/> inverts (float U and V per pixel, float 2x2 sums halved in double, the DCT as
    /// two 4x4 products summed in the same order), so the votes are the same to the bit.
    /// </remarks>
    public static double[][]? Decode<TPixel>(Image<TPixel> image, params int[] lengths)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        int rows = image.Height / 4 * 4, cols = image.Width / 4 * 4;
        if (rows < 8 || cols < 8)
        {
            return null;
        }

        double[][] votes = [.. lengths.Select(l => new double[l])];
        int[][] counts = [.. lengths.Select(l => new int[l])];
        int blockRows = rows / 2 / Block, blockCols = cols / 2 / Block, bandCols = cols / 2;
        double[] u = ArrayPool<double>.Shared.Rent(Block * bandCols);
        double[] v = ArrayPool<double>.Shared.Rent(Block * bandCols);
        Rgba32[] converted = typeof(TPixel) == typeof(Rgba32) ? [] : ArrayPool<Rgba32>.Shared.Rent(2 * cols);
        int[] position = new int[lengths.Length];
        try
        {
            Configuration configuration = image.GetConfiguration();
            image.ProcessPixelRows(access =>
            {
                for (int br = 0; br < blockRows; br++)
                {
                    for (int r = 0; r < Block; r++)
                    {
                        int y = (br * 2 * Block) + (2 * r);
                        ReadOnlySpan<Rgba32> top = AsRgba32(configuration, access.GetRowSpan(y)[..cols], converted.Length == 0 ? default : converted.AsSpan(0, cols));
                        ReadOnlySpan<Rgba32> bottom = AsRgba32(configuration, access.GetRowSpan(y + 1)[..cols], converted.Length == 0 ? default : converted.AsSpan(cols, cols));
                        HaarApproximationRow(top, bottom, u.AsSpan(r * bandCols, bandCols), v.AsSpan(r * bandCols, bandCols));
                    }

                    // Blocks are numbered from 0 in each plane; both planes vote for the same bits.
                    for (int bc = 0; bc < blockCols; bc++)
                    {
                        int bits = InferBit(u, bandCols, bc) + InferBit(v, bandCols, bc);
                        for (int m = 0; m < lengths.Length; m++)
                        {
                            votes[m][position[m]] += bits;
                            counts[m][position[m]] += 2;
                            if (++position[m] == lengths[m])
                            {
                                position[m] = 0;
                            }
                        }
                    }
                }
            });
        }
        finally
        {
            ArrayPool<double>.Shared.Return(u);
            ArrayPool<double>.Shared.Return(v);
            if (converted.Length > 0)
            {
                ArrayPool<Rgba32>.Shared.Return(converted);
            }
        }

        for (int m = 0; m < lengths.Length; m++)
        {
            for (int i = 0; i < lengths[m]; i++)
            {
                votes[m][i] = counts[m][i] == 0 ? 0.5 : votes[m][i] / counts[m][i];
            }
        }

        return votes;
    }

    /// <summary>
    /// Evidence when a known mark decodes with at most 10% bit errors (strong) or 20% (moderate); a random image sits near
    /// 50%, and 10% of 48 bits by chance has odds below one in a billion.
    /// </summary>
    public static Evidence? Detect<TPixel>(Image<TPixel> image)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        if (Decode(image, StableDiffusionV1.Length, Sdxl.Length) is not { } votes)
        {
            return null;
        }

        (string Name, double Ber)[] marks =
        [
            ("\"StableDiffusionV1\" (SD 1.x/2.x reference scripts)", BitErrorRate(votes[0], StableDiffusionV1)),
            ("SDXL's 48-bit message", BitErrorRate(votes[1], Sdxl)),
        ];
        (string name, double ber) = marks.MinBy(m => m.Ber);
        return ber > 0.2
            ? null
            : new Evidence(
                EvidenceSignals.SdWatermark,
                ber <= 0.1 ? EvidenceStrength.Strong : EvidenceStrength.Moderate,
                $"invisible watermark {name}, DWT-DCT, bit error rate {ber:0.000}",
                EvidenceDirection.Ai);
    }

    /// <summary>The share of bits that differ from <paramref name="message"/> when votes are read at 0.5.</summary>
    public static double BitErrorRate(double[] votes, bool[] message) =>
        message.Where((bit, i) => (votes[i] > 0.5) != bit).Count() / (double)message.Length;

    private static ReadOnlySpan<Rgba32> AsRgba32<TPixel>(Configuration configuration, Span<TPixel> row, Span<Rgba32> buffer)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        if (typeof(TPixel) == typeof(Rgba32))
        {
            return MemoryMarshal.Cast<TPixel, Rgba32>(row);
        }

        PixelOperations<TPixel>.Instance.ToRgba32(configuration, row, buffer);
        return buffer;
    }

    // One row of the Haar approximation band of U and V from two pixel rows: (a + b + c + d) / 2 over each 2x2 block,
    // the four values in float as the planes hold them, summed in float left to right and halved in double (see Yuv and
    // HaarApproximation). Eight outputs at a time in 256-bit vectors where the hardware has them: every lane does the
    // scalar code's operations in the same order (no fused multiply-add), so the results are the same to the bit.
    private static void HaarApproximationRow(ReadOnlySpan<Rgba32> top, ReadOnlySpan<Rgba32> bottom, Span<double> u, Span<double> v)
    {
        int c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ReadOnlySpan<uint> topBits = MemoryMarshal.Cast<Rgba32, uint>(top), bottomBits = MemoryMarshal.Cast<Rgba32, uint>(bottom);
            for (; c + 8 <= u.Length; c += 8)
            {
                (Vector256<uint> topEven, Vector256<uint> topOdd) = Deinterleave(topBits.Slice(2 * c, 16));
                (Vector256<uint> bottomEven, Vector256<uint> bottomOdd) = Deinterleave(bottomBits.Slice(2 * c, 16));
                (Vector256<float> ua, Vector256<float> va) = Chroma(topEven);
                (Vector256<float> ub, Vector256<float> vb) = Chroma(topOdd);
                (Vector256<float> uc, Vector256<float> vc) = Chroma(bottomEven);
                (Vector256<float> ud, Vector256<float> vd) = Chroma(bottomOdd);
                Store(ua + ub + uc + ud, u.Slice(c, 8));
                Store(va + vb + vc + vd, v.Slice(c, 8));
            }
        }

        for (; c < u.Length; c++)
        {
            (float ua, float va) = Chroma(top[2 * c]);
            (float ub, float vb) = Chroma(top[(2 * c) + 1]);
            (float uc, float vc) = Chroma(bottom[2 * c]);
            (float ud, float vd) = Chroma(bottom[(2 * c) + 1]);
            u[c] = (ua + ub + uc + ud) / 2.0;
            v[c] = (va + vb + vc + vd) / 2.0;
        }
    }

    // 16 packed pixels into the 8 even and the 8 odd ones.
    private static (Vector256<uint> Even, Vector256<uint> Odd) Deinterleave(ReadOnlySpan<uint> pixels)
    {
        Vector256<uint> order = Vector256.Create(0u, 2, 4, 6, 1, 3, 5, 7);
        Vector256<uint> first = Vector256.Shuffle(Vector256.Create(pixels[..8]), order);
        Vector256<uint> second = Vector256.Shuffle(Vector256.Create(pixels[8..]), order);
        return (Vector256.Create(first.GetLower(), second.GetLower()), Vector256.Create(first.GetUpper(), second.GetUpper()));
    }

    // Rgba32 packs R in the lowest byte.
    private static (Vector256<float> U, Vector256<float> V) Chroma(Vector256<uint> pixels)
    {
        Vector256<uint> mask = Vector256.Create(0xFFu);
        Vector256<float> r = Vector256.ConvertToSingle((pixels & mask).AsInt32());
        Vector256<float> g = Vector256.ConvertToSingle(((pixels >>> 8) & mask).AsInt32());
        Vector256<float> b = Vector256.ConvertToSingle(((pixels >>> 16) & mask).AsInt32());
        Vector256<float> luma = (Vector256.Create(0.299f) * r) + (Vector256.Create(0.587f) * g) + (Vector256.Create(0.114f) * b);
        return ((Vector256.Create(0.492f) * (b - luma)) + Vector256.Create(128f), (Vector256.Create(0.877f) * (r - luma)) + Vector256.Create(128f));
    }

    // A float sum of four, halved in double (exactly: halving only changes the exponent).
    private static void Store(Vector256<float> sum, Span<double> destination)
    {
        Vector256<double> half = Vector256.Create(0.5);
        (Vector256.WidenLower(sum) * half).CopyTo(destination);
        (Vector256.WidenUpper(sum) * half).CopyTo(destination[4..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float U, float V) Chroma(Rgba32 p)
    {
        float luma = (0.299f * p.R) + (0.587f * p.G) + (0.114f * p.B);
        return ((0.492f * (p.B - luma)) + 128, (0.877f * (p.R - luma)) + 128);
    }

    // The bit of block blockCol of a strip of Block band rows: the 4x4 DCT, Basis x block x Basis transposed with each
    // sum taken in k order as Multiply does it (so the coefficients are the same to the bit), unrolled into locals; then
    // the parity of the largest AC coefficient quantised by Scale.
    private static int InferBit(double[] strip, int stride, int blockCol)
    {
        ReadOnlySpan<double> r0 = strip.AsSpan(blockCol * Block, Block), r1 = strip.AsSpan(stride + (blockCol * Block), Block),
            r2 = strip.AsSpan((2 * stride) + (blockCol * Block), Block), r3 = strip.AsSpan((3 * stride) + (blockCol * Block), Block);
        double x00 = r0[0], x01 = r0[1], x02 = r0[2], x03 = r0[3];
        double x10 = r1[0], x11 = r1[1], x12 = r1[2], x13 = r1[3];
        double x20 = r2[0], x21 = r2[1], x22 = r2[2], x23 = r2[3];
        double x30 = r3[0], x31 = r3[1], x32 = r3[2], x33 = r3[3];

        // t = Basis x block
        double t00 = (B00 * x00) + (B01 * x10) + (B02 * x20) + (B03 * x30);
        double t01 = (B00 * x01) + (B01 * x11) + (B02 * x21) + (B03 * x31);
        double t02 = (B00 * x02) + (B01 * x12) + (B02 * x22) + (B03 * x32);
        double t03 = (B00 * x03) + (B01 * x13) + (B02 * x23) + (B03 * x33);
        double t10 = (B10 * x00) + (B11 * x10) + (B12 * x20) + (B13 * x30);
        double t11 = (B10 * x01) + (B11 * x11) + (B12 * x21) + (B13 * x31);
        double t12 = (B10 * x02) + (B11 * x12) + (B12 * x22) + (B13 * x32);
        double t13 = (B10 * x03) + (B11 * x13) + (B12 * x23) + (B13 * x33);
        double t20 = (B20 * x00) + (B21 * x10) + (B22 * x20) + (B23 * x30);
        double t21 = (B20 * x01) + (B21 * x11) + (B22 * x21) + (B23 * x31);
        double t22 = (B20 * x02) + (B21 * x12) + (B22 * x22) + (B23 * x32);
        double t23 = (B20 * x03) + (B21 * x13) + (B22 * x23) + (B23 * x33);
        double t30 = (B30 * x00) + (B31 * x10) + (B32 * x20) + (B33 * x30);
        double t31 = (B30 * x01) + (B31 * x11) + (B32 * x21) + (B33 * x31);
        double t32 = (B30 * x02) + (B31 * x12) + (B32 * x22) + (B33 * x32);
        double t33 = (B30 * x03) + (B31 * x13) + (B32 * x23) + (B33 * x33);

        // coefficients = t x Basis transposed; the largest magnitude among the 15 AC ones
        double largest = 0;
        largest = Math.Max(largest, Math.Abs((t00 * B10) + (t01 * B11) + (t02 * B12) + (t03 * B13)));
        largest = Math.Max(largest, Math.Abs((t00 * B20) + (t01 * B21) + (t02 * B22) + (t03 * B23)));
        largest = Math.Max(largest, Math.Abs((t00 * B30) + (t01 * B31) + (t02 * B32) + (t03 * B33)));
        largest = Math.Max(largest, Math.Abs((t10 * B00) + (t11 * B01) + (t12 * B02) + (t13 * B03)));
        largest = Math.Max(largest, Math.Abs((t10 * B10) + (t11 * B11) + (t12 * B12) + (t13 * B13)));
        largest = Math.Max(largest, Math.Abs((t10 * B20) + (t11 * B21) + (t12 * B22) + (t13 * B23)));
        largest = Math.Max(largest, Math.Abs((t10 * B30) + (t11 * B31) + (t12 * B32) + (t13 * B33)));
        largest = Math.Max(largest, Math.Abs((t20 * B00) + (t21 * B01) + (t22 * B02) + (t23 * B03)));
        largest = Math.Max(largest, Math.Abs((t20 * B10) + (t21 * B11) + (t22 * B12) + (t23 * B13)));
        largest = Math.Max(largest, Math.Abs((t20 * B20) + (t21 * B21) + (t22 * B22) + (t23 * B23)));
        largest = Math.Max(largest, Math.Abs((t20 * B30) + (t21 * B31) + (t22 * B32) + (t23 * B33)));
        largest = Math.Max(largest, Math.Abs((t30 * B00) + (t31 * B01) + (t32 * B02) + (t33 * B03)));
        largest = Math.Max(largest, Math.Abs((t30 * B10) + (t31 * B11) + (t32 * B12) + (t33 * B13)));
        largest = Math.Max(largest, Math.Abs((t30 * B20) + (t31 * B21) + (t32 * B22) + (t33 * B23)));
        largest = Math.Max(largest, Math.Abs((t30 * B30) + (t31 * B31) + (t32 * B32) + (t33 * B33)));
        return largest % Scale > 0.5 * Scale ? 1 : 0;
    }

    // Orthonormal 4x4 DCT-II, as cv2.dct computes it.
    internal static readonly double[,] Basis = CreateBasis();

    // The basis as scalars, for the unrolled DCT of the decoder (static readonly: constants once the class is initialised).
    private static readonly double B00 = Basis[0, 0];
    private static readonly double B01 = Basis[0, 1];
    private static readonly double B02 = Basis[0, 2];
    private static readonly double B03 = Basis[0, 3];
    private static readonly double B10 = Basis[1, 0];
    private static readonly double B11 = Basis[1, 1];
    private static readonly double B12 = Basis[1, 2];
    private static readonly double B13 = Basis[1, 3];
    private static readonly double B20 = Basis[2, 0];
    private static readonly double B21 = Basis[2, 1];
    private static readonly double B22 = Basis[2, 2];
    private static readonly double B23 = Basis[2, 3];
    private static readonly double B30 = Basis[3, 0];
    private static readonly double B31 = Basis[3, 1];
    private static readonly double B32 = Basis[3, 2];
    private static readonly double B33 = Basis[3, 3];

    private static double[,] CreateBasis()
    {
        var basis = new double[Block, Block];
        for (int k = 0; k < Block; k++)
        {
            double alpha = k == 0 ? Math.Sqrt(1.0 / Block) : Math.Sqrt(2.0 / Block);
            for (int n = 0; n < Block; n++)
            {
                basis[k, n] = alpha * Math.Cos(Math.PI * ((2 * n) + 1) * k / (2.0 * Block));
            }
        }

        return basis;
    }
}
