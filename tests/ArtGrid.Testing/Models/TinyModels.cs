using System.Text.Json;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Google.Protobuf;
using Onnx;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.Models;

/// <summary>
/// Small ONNX graphs with hand-set weights, built node by node, and model version folders around them: their answers
/// can be computed by hand from the pixels of an image.
/// </summary>
public static class TinyModels
{
    public const string Input = "image";

    /// <summary>A graph of float tensors; <paramref name="initializers"/> hold the weights.</summary>
    public static ModelProto Graph(ValueInfoProto input, IEnumerable<NodeProto> nodes, IEnumerable<ValueInfoProto> outputs, params TensorProto[] initializers)
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(input);
        graph.Node.AddRange(nodes);
        graph.Output.AddRange(outputs);
        graph.Initializer.AddRange(initializers);
        var model = new ModelProto { IrVersion = 8, ProducerName = "artgrid-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    /// <summary>A float tensor's declaration; a dimension is a size (long or int) or a symbol (string).</summary>
    public static ValueInfoProto Tensor(string name, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object dim in dims)
        {
            shape.Dim.Add(dim is string symbol
                ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    public static TensorProto Floats(string name, long[] dims, params float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{outputs[0]}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>Per-channel means of an NCHW image: [N, 3].</summary>
    public static NodeProto ChannelMeans(string input, string output) =>
        Node("ReduceMean", [input], [output], Ints("axes", 2, 3), Int("keepdims", 0));

    /// <summary>
    /// Writes a version folder (<c>graph.onnx</c>, <c>model.json</c>, and <c>head.json</c> when a head is given) and
    /// returns it. <paramref name="config"/> is model.json as an object, written as is.
    /// </summary>
    public static string WriteVersion(string root, string name, ModelProto graph, object config, LinearHead? head = null)
    {
        string dir = Path.Combine(root, name, "1");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "graph.onnx"), graph.ToByteArray());
        File.WriteAllText(Path.Combine(dir, ModelRepository.ConfigFile), JsonSerializer.Serialize(config, ModelConfig.JsonOptions));
        head?.Save(Path.Combine(dir, "head.json"));
        return dir;
    }

    /// <summary>A PNG of <paramref name="width"/> x <paramref name="height"/>: the left half one colour, the right half another.</summary>
    public static string TwoColourPng(string path, int width, int height, Rgb24 left, Rgb24 right)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image[x, y] = x < width / 2 ? left : right;
            }
        }

        image.SaveAsPng(path);
        return path;
    }
}
