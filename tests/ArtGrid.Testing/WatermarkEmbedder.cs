using ArtGrid.Imaging.Provenance;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests;

/// <summary>
/// The reference DWT-DCT watermark encoder (the "invisible-watermark" package's method, as
/// <see cref="DwtDctWatermark"/> decodes it) and its plane-by-plane steps: test-only code, which the tests, the
/// watermark checks and the drift benchmark use to make marked images, and the reference decoder uses to check the
/// production decoder's streaming one.
/// </summary>
public static class WatermarkEmbedder
{
    private const int Block = DwtDctWatermark.Block;
    private const double Scale = DwtDctWatermark.Scale;

    /// <summary>Embeds <paramref name="message"/> the way the reference encoder does (for tests and for checking the decoder).</summary>
    public static void Embed(Image<Rgb24> image, bool[] message)
    {
        int rows = image.Height / 4 * 4, cols = image.Width / 4 * 4;
        float[][] yuv = Yuv(image, rows, cols, withLuma: true);
        foreach (int channel in new[] { 1, 2 })
        {
            double[,] approximation = HaarApproximation(yuv[channel], rows, cols);
            (double[,] h, double[,] v, double[,] d) = HaarDetails(yuv[channel], rows, cols);
            int blockRows = rows / 2 / Block, blockCols = cols / 2 / Block;
            var block = new double[Block, Block];
            for (int br = 0, number = 0; br < blockRows; br++)
            {
                for (int bc = 0; bc < blockCols; bc++, number++)
                {
                    ReadBlock(approximation, br, bc, block);

                    double[,] coefficients = Dct4(block);
                    Diffuse(coefficients, message[number % message.Length]);
                    WriteBlock(approximation, br, bc, InverseDct4(coefficients));
                }
            }

            InverseHaar(yuv[channel], rows, cols, approximation, h, v, d);
        }

        WriteBack(image, yuv, rows, cols);
    }

    public static void ReadBlock(double[,] band, int blockRow, int blockCol, double[,] block)
    {
        for (int y = 0; y < Block; y++)
        {
            for (int x = 0; x < Block; x++)
            {
                block[y, x] = band[(blockRow * Block) + y, (blockCol * Block) + x];
            }
        }
    }

    private static void WriteBlock(double[,] band, int blockRow, int blockCol, double[,] block)
    {
        for (int y = 0; y < Block; y++)
        {
            for (int x = 0; x < Block; x++)
            {
                band[(blockRow * Block) + y, (blockCol * Block) + x] = block[y, x];
            }
        }
    }

    private static void Diffuse(double[,] block, bool bit)
    {
        (int y, int x) = LargestAc(block);
        double value = block[y, x];
        double magnitude = (Math.Floor(Math.Abs(value) / Scale) + 0.25 + (bit ? 0.5 : 0)) * Scale;
        block[y, x] = value >= 0 ? magnitude : -magnitude;
    }

    public static (int Y, int X) LargestAc(double[,] block)
    {
        int best = 1;
        double bestValue = -1;
        for (int position = 1; position < Block * Block; position++)
        {
            double value = Math.Abs(block[position / Block, position % Block]);
            if (value > bestValue)
            {
                bestValue = value;
                best = position;
            }
        }

        return (best / Block, best % Block);
    }

    // OpenCV's BGR2YUV for 8-bit images: Y = .299R + .587G + .114B, U = .492(B - Y) + 128, V = .877(R - Y) + 128.
    // Decoding reads only U and V; the luma plane is filled only when the image is to be written back.
    public static float[][] Yuv<TPixel>(Image<TPixel> image, int rows, int cols, bool withLuma)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        float[] y = withLuma ? new float[rows * cols] : [];
        var u = new float[rows * cols];
        var v = new float[rows * cols];
        image.ProcessPixelRows(access =>
        {
            for (int r = 0; r < rows; r++)
            {
                Span<TPixel> row = access.GetRowSpan(r);
                Rgba32 p = default;
                for (int c = 0; c < cols; c++)
                {
                    row[c].ToRgba32(ref p);
                    float luma = (0.299f * p.R) + (0.587f * p.G) + (0.114f * p.B);
                    if (withLuma)
                    {
                        y[(r * cols) + c] = luma;
                    }

                    u[(r * cols) + c] = (0.492f * (p.B - luma)) + 128;
                    v[(r * cols) + c] = (0.877f * (p.R - luma)) + 128;
                }
            }
        });
        return [y, u, v];
    }

    private static void WriteBack(Image<Rgb24> image, float[][] yuv, int rows, int cols)
    {
        image.ProcessPixelRows(access =>
        {
            for (int r = 0; r < rows; r++)
            {
                Span<Rgb24> row = access.GetRowSpan(r);
                for (int c = 0; c < cols; c++)
                {
                    int i = (r * cols) + c;
                    float luma = yuv[0][i];
                    float red = luma + ((yuv[2][i] - 128) / 0.877f);
                    float blue = luma + ((yuv[1][i] - 128) / 0.492f);
                    float green = (luma - (0.299f * red) - (0.114f * blue)) / 0.587f;
                    row[c] = new Rgb24(Clamp(red), Clamp(green), Clamp(blue));
                }
            }
        });

        static byte Clamp(float value) => (byte)Math.Clamp(MathF.Round(value), 0, 255);
    }

    // pywt.dwt2(..., 'haar'): cA = (a + b + c + d) / 2 over each 2x2 block.
    public static double[,] HaarApproximation(float[] plane, int rows, int cols)
    {
        var approximation = new double[rows / 2, cols / 2];
        for (int r = 0; r < rows / 2; r++)
        {
            for (int c = 0; c < cols / 2; c++)
            {
                int i = (2 * r * cols) + (2 * c);
                approximation[r, c] = (plane[i] + plane[i + 1] + plane[i + cols] + plane[i + cols + 1]) / 2.0;
            }
        }

        return approximation;
    }

    private static (double[,] H, double[,] V, double[,] D) HaarDetails(float[] plane, int rows, int cols)
    {
        var h = new double[rows / 2, cols / 2];
        var v = new double[rows / 2, cols / 2];
        var d = new double[rows / 2, cols / 2];
        for (int r = 0; r < rows / 2; r++)
        {
            for (int c = 0; c < cols / 2; c++)
            {
                int i = (2 * r * cols) + (2 * c);
                double a = plane[i], b = plane[i + 1], e = plane[i + cols], f = plane[i + cols + 1];
                h[r, c] = (a + b - e - f) / 2.0;
                v[r, c] = (a - b + e - f) / 2.0;
                d[r, c] = (a - b - e + f) / 2.0;
            }
        }

        return (h, v, d);
    }

    private static void InverseHaar(float[] plane, int rows, int cols, double[,] approximation, double[,] h, double[,] v, double[,] d)
    {
        for (int r = 0; r < rows / 2; r++)
        {
            for (int c = 0; c < cols / 2; c++)
            {
                int i = (2 * r * cols) + (2 * c);
                double ca = approximation[r, c], ch = h[r, c], cv = v[r, c], cd = d[r, c];
                plane[i] = (float)((ca + ch + cv + cd) / 2.0);
                plane[i + 1] = (float)((ca + ch - cv - cd) / 2.0);
                plane[i + cols] = (float)((ca - ch + cv - cd) / 2.0);
                plane[i + cols + 1] = (float)((ca - ch - cv + cd) / 2.0);
            }
        }
    }

    public static double[,] Dct4(double[,] block) => Multiply(Multiply(DwtDctWatermark.Basis, block, false), DwtDctWatermark.Basis, true);

    private static double[,] InverseDct4(double[,] coefficients) => Multiply(Multiply(DwtDctWatermark.Basis, coefficients, false, leftTransposed: true), DwtDctWatermark.Basis, false);

    private static double[,] Multiply(double[,] a, double[,] b, bool transposeB, bool leftTransposed = false)
    {
        var result = new double[Block, Block];
        for (int i = 0; i < Block; i++)
        {
            for (int j = 0; j < Block; j++)
            {
                double sum = 0;
                for (int k = 0; k < Block; k++)
                {
                    sum += (leftTransposed ? a[k, i] : a[i, k]) * (transposeB ? b[j, k] : b[k, j]);
                }

                result[i, j] = sum;
            }
        }

        return result;
    }
}
