using Google.Protobuf;
using Onnx;

namespace ArtGrid.Inference;

/// <summary>
/// Pixel statistics that carry traces of how an image was made rather than what it shows, computed inside the model's
/// graph from its own input tensor, so that they batch, run on the model's device and reach the head like any backbone
/// output. A model reads them by listing <see cref="OutputName"/> among <c>backbone.outputs</c>; the branch is added
/// when the graph is loaded and needs nothing in the ONNX file.
/// <para>
/// Every statistic is the log of a mean energy over the whole input, in 0..255 pixel units:
/// <list type="bullet">
/// <item>63: the luma's 8x8 DCT-II bands without DC, blocks at stride 2 (upsampling by 2, 4 or 8, as latent decoders do,
/// leaves periodic energy in specific bands; so do resampling and re-compression);</item>
/// <item>9: per colour channel, the three 2x2 Haar details at stride 2 (the image minus its own down-then-up-sampled
/// copy: horizontal, vertical and diagonal neighbouring-pixel differences);</item>
/// <item>3: per colour channel, the 3x3 Laplacian residual at stride 1.</item>
/// </list>
/// Every filter sums to zero, so the input's mean subtraction does not matter; the values are rescaled by the input's
/// std and scale back to pixel units.
/// </para>
/// </summary>
public static class TraceStatistics
{
    /// <summary>The output name that asks for the branch: [N, <see cref="Count"/>, 1, 1].</summary>
    public const string OutputName = "ArtGrid_TraceStatistics";

    public const int DctBands = 63;

    public const int Count = DctBands + 9 + 3;

    private const string Prefix = "ArtGrid_Traces_";

    /// <summary>Luma weights for R, G, B (ITU-R BT.601).</summary>
    private static readonly float[] LumaRgb = [0.299f, 0.587f, 0.114f];

    /// <summary>Appends the branch that computes <see cref="OutputName"/> from <paramref name="inputName"/> (NCHW only).</summary>
    public static void Append(GraphProto graph, string inputName, ModelInputSpec input)
    {
        if (input.Layout != TensorLayout.Nchw)
        {
            throw new InvalidDataException($"{OutputName} needs input.layout NCHW.");
        }

        // Tensor value v = (pixel * scale - mean) / std, so pixel differences are v * std / scale.
        float[] unit = [.. input.Std.Select(s => s / input.Scale)];
        float[] luma = input.ChannelOrder == ChannelOrder.Rgb ? LumaRgb : [LumaRgb[2], LumaRgb[1], LumaRgb[0]];

        Initializer(graph, "luma_w", [1, 3, 1, 1], [.. luma.Select((w, c) => w * unit[c])]);
        Node(graph, "Conv", [inputName, Prefix + "luma_w"], "luma");

        Initializer(graph, "dct_w", [DctBands, 1, 8, 8], DctBank());
        Node(graph, "Conv", [Prefix + "luma", Prefix + "dct_w"], "dct", Ints("strides", 2, 2));

        Initializer(graph, "haar_w", [9, 1, 2, 2], [.. Enumerable.Range(0, 3).SelectMany(c => HaarDetails().Select(w => w * unit[c]))]);
        Node(graph, "Conv", [inputName, Prefix + "haar_w"], "haar", Ints("strides", 2, 2), Int("group", 3));

        float[] laplacian = [0, 1, 0, 1, -4, 1, 0, 1, 0];
        Initializer(graph, "laplacian_w", [3, 1, 3, 3], [.. Enumerable.Range(0, 3).SelectMany(c => laplacian.Select(w => w * unit[c]))]);
        Node(graph, "Conv", [inputName, Prefix + "laplacian_w"], "laplacian", Int("group", 3));

        string[] energies = ["dct", "haar", "laplacian"];
        foreach (string e in energies)
        {
            Node(graph, "Mul", [Prefix + e, Prefix + e], e + "_sq");
            Node(graph, "GlobalAveragePool", [Prefix + e + "_sq"], e + "_energy");
        }

        Node(graph, "Concat", [.. energies.Select(e => Prefix + e + "_energy")], "energy", Int("axis", 1));
        Initializer(graph, "epsilon", [1], [1e-2f]);
        Node(graph, "Add", [Prefix + "energy", Prefix + "epsilon"], "energy_eps");
        graph.Node.Add(new NodeProto { OpType = "Log", Name = OutputName, Input = { Prefix + "energy_eps" }, Output = { OutputName } });
        graph.Output.Add(new ValueInfoProto
        {
            Name = OutputName,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor
                {
                    ElemType = (int)TensorProto.Types.DataType.Float,
                    Shape = new TensorShapeProto
                    {
                        Dim =
                        {
                            new TensorShapeProto.Types.Dimension { DimParam = "N" },
                            new TensorShapeProto.Types.Dimension { DimValue = Count },
                            new TensorShapeProto.Types.Dimension { DimValue = 1 },
                            new TensorShapeProto.Types.Dimension { DimValue = 1 },
                        },
                    },
                },
            },
        });
    }

    /// <summary>The orthonormal 8x8 DCT-II basis without its DC, [63, 1, 8, 8], bands in row-major (v, u) order.</summary>
    public static float[] DctBank()
    {
        var weights = new float[DctBands * 64];
        int band = 0;
        for (int v = 0; v < 8; v++)
        {
            for (int u = 0; u < 8; u++)
            {
                if (u == 0 && v == 0)
                {
                    continue;
                }

                for (int y = 0; y < 8; y++)
                {
                    for (int x = 0; x < 8; x++)
                    {
                        weights[(band * 64) + (y * 8) + x] = (float)(C(u) * C(v) * Math.Cos((2 * x + 1) * u * Math.PI / 16) * Math.Cos((2 * y + 1) * v * Math.PI / 16));
                    }
                }

                band++;
            }
        }

        return weights;

        static double C(int k) => k == 0 ? Math.Sqrt(1.0 / 8) : Math.Sqrt(2.0 / 8);
    }

    /// <summary>The 2x2 Haar details: horizontal edge, vertical edge, diagonal (each [2, 2], orthonormal).</summary>
    private static float[] HaarDetails() => [0.5f, 0.5f, -0.5f, -0.5f, 0.5f, -0.5f, 0.5f, -0.5f, 0.5f, -0.5f, -0.5f, 0.5f];

    private static void Initializer(GraphProto graph, string name, long[] dims, float[] values)
    {
        var tensor = new TensorProto { Name = Prefix + name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
        tensor.Dims.Add(dims);
        graph.Initializer.Add(tensor);
    }

    private static void Node(GraphProto graph, string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Prefix + output, Output = { Prefix + output } };
        node.Input.Add(inputs);
        node.Attribute.Add(attributes);
        graph.Node.Add(node);
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
}
