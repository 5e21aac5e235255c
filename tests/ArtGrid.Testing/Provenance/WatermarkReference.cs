using ArtGrid.Imaging.Provenance;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.Provenance;

/// <summary>
/// The DWT-DCT decoder as it was first written, plane by plane: full-size float U and V planes, a double[,] Haar
/// approximation, a heap 4x4 DCT per block. It is built from the plane-by-plane steps that
/// <see cref="WatermarkEmbedder.Embed"/> still uses, none of which the streaming decoder calls, and is kept only to check
/// that the streaming decoder casts the same votes.
/// </summary>
public static class WatermarkReference
{
    public static double[][]? Decode<TPixel>(Image<TPixel> image, params int[] lengths)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        const int block = DwtDctWatermark.Block;
        int rows = image.Height / 4 * 4, cols = image.Width / 4 * 4;
        if (rows < 8 || cols < 8)
        {
            return null;
        }

        double[][] votes = [.. lengths.Select(l => new double[l])];
        int[][] counts = [.. lengths.Select(l => new int[l])];
        float[][] yuv = WatermarkEmbedder.Yuv(image, rows, cols, withLuma: false);
        foreach (float[] plane in new[] { yuv[1], yuv[2] })
        {
            double[,] approximation = WatermarkEmbedder.HaarApproximation(plane, rows, cols);
            int blockRows = rows / 2 / block, blockCols = cols / 2 / block;
            var pixels = new double[block, block];
            for (int br = 0, number = 0; br < blockRows; br++)
            {
                for (int bc = 0; bc < blockCols; bc++, number++)
                {
                    WatermarkEmbedder.ReadBlock(approximation, br, bc, pixels);
                    double[,] coefficients = WatermarkEmbedder.Dct4(pixels);
                    (int y, int x) = WatermarkEmbedder.LargestAc(coefficients);
                    int bit = Math.Abs(coefficients[y, x]) % DwtDctWatermark.Scale > 0.5 * DwtDctWatermark.Scale ? 1 : 0;
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
}
