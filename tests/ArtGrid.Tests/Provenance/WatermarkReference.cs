using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.Provenance;

/// <summary>
/// The DWT-DCT decoder as it was first written, plane by plane (full-size float U and V planes, a double[,] Haar
/// approximation, heap 4x4 arrays for each block's DCT). Kept only to check that the streaming decoder casts the same votes.
/// </summary>
internal static class WatermarkReference
{
    private const int Block = 4;
    private const double Scale = 36;
    private static readonly double[,] Basis = CreateBasis();

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
        (float[] u, float[] v) = Chroma(image, rows, cols);
        foreach (float[] plane in new[] { u, v })
        {
            double[,] approximation = HaarApproximation(plane, rows, cols);
            int blockRows = rows / 2 / Block, blockCols = cols / 2 / Block;
            var block = new double[Block, Block];
            for (int br = 0, number = 0; br < blockRows; br++)
            {
                for (int bc = 0; bc < blockCols; bc++, number++)
                {
                    for (int y = 0; y < Block; y++)
                    {
                        for (int x = 0; x < Block; x++)
                        {
                            block[y, x] = approximation[(br * Block) + y, (bc * Block) + x];
                        }
                    }

                    int bit = InferBit(Multiply(Multiply(Basis, block, false), Basis, true));
                    for (int m = 0; m < lengths.Length; m++)
                    {
                        votes[m][number % lengths[m]] += bit;
                        counts[m][number % lengths[m]]++;
                    }
                }
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

    private static int InferBit(double[,] block)
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

        double largest = Math.Abs(block[best / Block, best % Block]);
        return largest % Scale > 0.5 * Scale ? 1 : 0;
    }

    private static (float[] U, float[] V) Chroma<TPixel>(Image<TPixel> image, int rows, int cols)
        where TPixel : unmanaged, IPixel<TPixel>
    {
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
                    u[(r * cols) + c] = (0.492f * (p.B - luma)) + 128;
                    v[(r * cols) + c] = (0.877f * (p.R - luma)) + 128;
                }
            }
        });
        return (u, v);
    }

    private static double[,] HaarApproximation(float[] plane, int rows, int cols)
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

    private static double[,] Multiply(double[,] a, double[,] b, bool transposeB)
    {
        var result = new double[Block, Block];
        for (int i = 0; i < Block; i++)
        {
            for (int j = 0; j < Block; j++)
            {
                double sum = 0;
                for (int k = 0; k < Block; k++)
                {
                    sum += a[i, k] * (transposeB ? b[j, k] : b[k, j]);
                }

                result[i, j] = sum;
            }
        }

        return result;
    }
}
