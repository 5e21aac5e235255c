using ArtGrid.Inference;
using Microsoft.ML.OnnxRuntime;

namespace ArtGrid.Tests;

/// <summary>The trace-statistics branch the loader adds to a graph, checked against the same sums computed here in plain loops.</summary>
public sealed class TraceStatisticsTests(ModelFixture fixture)
    : IClassFixture<ModelFixture>
{
    private const int Size = 64;

    [Fact]
    public void TheBranchComputesTheLogEnergiesOfItsFiltersInPixelUnits()
    {
        // BGR input with the package's channel means subtracted and a std of 2 (so that the rescale to pixels is tested).
        var spec = new ModelInputSpec("Input247", Size, Size, TensorLayout.Nchw, ChannelOrder.Bgr, 1f, [103.06f, 115.9f, 123.15f], [2f, 2f, 2f]);
        var rng = new Random(11);
        var pixels = new float[3, Size, Size]; // 0..255, in the input's channel order
        var input = new float[3 * Size * Size];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < Size; y++)
            {
                for (int x = 0; x < Size; x++)
                {
                    pixels[c, y, x] = (float)Math.Round((128 + (60 * Math.Sin((x * (c + 1)) + (y / 3.0)))) + rng.Next(-20, 21));
                    input[(c * Size * Size) + (y * Size) + x] = (pixels[c, y, x] - spec.Mean[c]) / spec.Std[c];
                }
            }
        }

        var backbone = new BackboneConfig { File = "ResNet18.onnx", Outputs = [TraceStatistics.OutputName], DynamicBatch = true };
        byte[] graph = OnnxGraphs.Load(fixture.Model.BackbonePath, backbone, spec);
        using var session = new InferenceSession(graph);
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, Size, Size]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["Input247"], [value], [TraceStatistics.OutputName]);
        float[] actual = outputs[0].GetTensorDataAsSpan<float>().ToArray();

        double[] expected = Expected(pixels);
        Assert.Equal(TraceStatistics.Count, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.True(Math.Abs(actual[k] - expected[k]) < 2e-3, $"statistic {k}: graph {actual[k]}, loops {expected[k]}");
        }

        // Only the branch's own nodes run: the ResNet is pruned away.
        Assert.True(Onnx.ModelProto.Parser.ParseFrom(graph).Graph.Node.All(n => n.Name.StartsWith("ArtGrid_", StringComparison.Ordinal)));
    }

    // The same statistics, straight from the pixels: DCT bands of the luma (stride 2), Haar details (stride 2), Laplacian (stride 1).
    private static double[] Expected(float[,,] p)
    {
        double[] luma = [0.114, 0.587, 0.299]; // B, G, R
        var y = new double[Size, Size];
        for (int r = 0; r < Size; r++)
        {
            for (int c = 0; c < Size; c++)
            {
                y[r, c] = (luma[0] * p[0, r, c]) + (luma[1] * p[1, r, c]) + (luma[2] * p[2, r, c]);
            }
        }

        var result = new List<double>();
        float[] bank = TraceStatistics.DctBank();
        for (int band = 0; band < TraceStatistics.DctBands; band++)
        {
            result.Add(MeanSquare((Size - 8) / 2 + 1, (r, c) =>
            {
                double s = 0;
                for (int i = 0; i < 8; i++)
                {
                    for (int j = 0; j < 8; j++)
                    {
                        s += bank[(band * 64) + (i * 8) + j] * y[(2 * r) + i, (2 * c) + j];
                    }
                }

                return s;
            }));
        }

        for (int ch = 0; ch < 3; ch++)
        {
            double A(int r, int c) => p[ch, 2 * r, 2 * c];
            double B(int r, int c) => p[ch, 2 * r, (2 * c) + 1];
            double C(int r, int c) => p[ch, (2 * r) + 1, 2 * c];
            double D(int r, int c) => p[ch, (2 * r) + 1, (2 * c) + 1];
            result.Add(MeanSquare(Size / 2, (r, c) => 0.5 * (A(r, c) + B(r, c) - C(r, c) - D(r, c))));
            result.Add(MeanSquare(Size / 2, (r, c) => 0.5 * (A(r, c) - B(r, c) + C(r, c) - D(r, c))));
            result.Add(MeanSquare(Size / 2, (r, c) => 0.5 * (A(r, c) - B(r, c) - C(r, c) + D(r, c))));
        }

        for (int ch = 0; ch < 3; ch++)
        {
            result.Add(MeanSquare(Size - 2, (r, c) => p[ch, r, c + 1] + p[ch, r + 1, c] - (4.0 * p[ch, r + 1, c + 1]) + p[ch, r + 1, c + 2] + p[ch, r + 2, c + 1]));
        }

        return [.. result.Select(e => Math.Log(e + 1e-2))];
    }

    private static double MeanSquare(int side, Func<int, int, double> at)
    {
        double sum = 0;
        for (int r = 0; r < side; r++)
        {
            for (int c = 0; c < side; c++)
            {
                double v = at(r, c);
                sum += v * v;
            }
        }

        return sum / (side * side);
    }
}
