using System.Text.Json;
using Google.Protobuf;
using Onnx;

namespace ArtGrid.Inference;

/// <summary>Reads and rewrites ONNX graphs.</summary>
public static class OnnxGraphs
{
    /// <summary>The graph as a session loads it: see <see cref="Prepare"/>.</summary>
    public static byte[] Load(string path, BackboneConfig backbone, ModelInputSpec input) => Prepare(path, backbone, input).ToByteArray();

    /// <summary>
    /// Reads a graph and makes it serve the config: the input must exist with 3 channels where the layout puts them;
    /// a named value that a node computes but the graph does not output becomes an output (ONNX Runtime fetches
    /// outputs only); with <see cref="BackboneConfig.DynamicBatch"/> a fixed batch dimension becomes symbolic ("N"),
    /// and so do the input's height and width ("H", "W") when the configured size differs from the declared one, the
    /// declared sizes of intermediate values and of the outputs' spatial dimensions being dropped (ONNX Runtime infers
    /// them again). Only fully convolutional graphs run at another size; a graph that cannot fails on its first run.
    /// </summary>
    /// <exception cref="InvalidDataException">A name or shape does not fit; the message names the file and what it has.</exception>
    public static ModelProto Prepare(string path, BackboneConfig backbone, ModelInputSpec input)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"{path} is not an ONNX model: {ex.Message}", ex);
        }

        GraphProto graph = model.Graph;
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        ValueInfoProto[] inputs = [.. graph.Input.Where(i => !initializers.Contains(i.Name))];
        ValueInfoProto image = inputs.FirstOrDefault(i => i.Name == input.Name)
            ?? throw new InvalidDataException($"{path} has no input '{input.Name}' (its inputs: {string.Join(", ", inputs.Select(Describe))}); set input.name to one of them.");
        if (inputs.Length != 1)
        {
            throw new InvalidDataException($"{path} takes {inputs.Length} inputs ({string.Join(", ", inputs.Select(Describe))}); ArtGrid feeds one image tensor.");
        }

        var dims = image.Type?.TensorType?.Shape?.Dim;
        bool nchw = input.Layout == TensorLayout.Nchw;
        int channelAxis = nchw ? 1 : 3, heightAxis = nchw ? 2 : 1, widthAxis = nchw ? 3 : 2;
        if (dims is not null && (dims.Count != 4 || (dims[channelAxis].HasDimValue && dims[channelAxis].DimValue != 3)))
        {
            throw new InvalidDataException(
                $"{path}: input '{input.Name}' is {Describe(image)}; input.layout {input.Layout.ToString().ToUpperInvariant()} feeds [N, {(nchw ? "3, H, W" : "H, W, 3")}].");
        }

        if (backbone.OutputNames.Contains(TraceStatistics.OutputName, StringComparer.Ordinal) && !graph.Output.Any(o => o.Name == TraceStatistics.OutputName))
        {
            TraceStatistics.Append(graph, input.Name, input);
        }

        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var computed = graph.Node.SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        string[] promoted = [.. backbone.OutputNames.Where(n => !graphOutputs.Contains(n))];
        if (promoted.FirstOrDefault(n => !computed.Contains(n)) is { } missing)
        {
            throw new InvalidDataException(
                $"{path} has no output or computed value '{missing}' (its outputs: {string.Join(", ", graph.Output.Select(Describe))}).");
        }

        PruneTo(graph, backbone.OutputNames);

        bool fixedBatch = dims is not null && dims[0].HasDimValue;
        bool otherSize = dims is not null
            && ((dims[heightAxis].HasDimValue && dims[heightAxis].DimValue != input.Height)
                || (dims[widthAxis].HasDimValue && dims[widthAxis].DimValue != input.Width));
        if (!backbone.DynamicBatch)
        {
            if (otherSize)
            {
                throw new InvalidDataException(
                    $"{path}: input '{input.Name}' is {Describe(image)} but input.width x height is {input.Width}x{input.Height}; backbone.dynamicBatch false uses the graph as stored (set it true to make the size symbolic, for fully convolutional graphs).");
            }

            if (fixedBatch && dims![0].DimValue != 1)
            {
                throw new InvalidDataException($"{path}: the batch of input '{input.Name}' is fixed at {dims[0].DimValue}; set backbone.dynamicBatch true.");
            }
        }
        else if (fixedBatch)
        {
            // Dim 0 becomes symbolic throughout the graph's declared shapes. A Reshape or Flatten with a constant shape
            // would pin the batch size again, so such graphs are refused rather than silently miscomputed.
            if (graph.Node.Any(n => n.OpType is "Reshape" or "Flatten"))
            {
                throw new InvalidDataException(
                    $"{path}: the graph reshapes, so its fixed batch cannot be made symbolic safely; set backbone.dynamicBatch false to run it one image at a time.");
            }

            foreach (ValueInfoProto value in graph.Input.Concat(graph.Output).Concat(graph.ValueInfo).Where(v => !initializers.Contains(v.Name)))
            {
                if (value.Type?.TensorType?.Shape is { Dim.Count: > 0 } shape)
                {
                    shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
                }
            }
        }

        // Exposed after the batch rewrite, so that a declared shape is taken with its symbolic batch.
        foreach (string name in promoted)
        {
            graph.Output.Add(graph.ValueInfo.FirstOrDefault(v => v.Name == name)?.Clone()
                ?? new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        }

        if (backbone.DynamicBatch && otherSize)
        {
            dims![heightAxis].DimParam = "H";
            dims[widthAxis].DimParam = "W";
            graph.ValueInfo.Clear();
            foreach (ValueInfoProto output in graph.Output)
            {
                if (output.Type?.TensorType?.Shape is { Dim.Count: > 2 } shape)
                {
                    for (int axis = 2; axis < shape.Dim.Count; axis++)
                    {
                        shape.Dim[axis] = new TensorShapeProto.Types.Dimension();
                    }
                }
            }
        }

        return model;
    }

    /// <summary>
    /// Keeps only what computes <paramref name="outputs"/>: the graph's other outputs go, and so do the nodes and
    /// initializers that only they needed. ONNX Runtime runs every node of a session's graph whatever a run fetches,
    /// so a model that reads an early layer (ResNet-18's second stage, say) would otherwise pay for the whole network.
    /// Graphs with subgraphs (If, Loop, Scan) are left whole: their inner nodes may read outer values.
    /// </summary>
    public static void PruneTo(GraphProto graph, IReadOnlyList<string> outputs)
    {
        if (graph.Node.Any(n => n.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0)))
        {
            return;
        }

        var needed = new HashSet<string>(outputs, StringComparer.Ordinal);
        var kept = new List<NodeProto>();
        for (int i = graph.Node.Count - 1; i >= 0; i--)
        {
            NodeProto node = graph.Node[i];
            if (node.Output.Any(needed.Contains))
            {
                kept.Add(node);
                needed.UnionWith(node.Input);
            }
        }

        kept.Reverse();
        graph.Node.Clear();
        graph.Node.Add(kept);
        ValueInfoProto[] keptOutputs = [.. graph.Output.Where(o => outputs.Contains(o.Name, StringComparer.Ordinal))];
        graph.Output.Clear();
        graph.Output.Add(keptOutputs);
        // Older graphs also list their initializers as inputs: those go with their initializer; real inputs stay.
        var initializerNames = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        ValueInfoProto[] inputs = [.. graph.Input.Where(v => needed.Contains(v.Name) || !initializerNames.Contains(v.Name))];
        graph.Input.Clear();
        graph.Input.Add(inputs);
        TensorProto[] initializers = [.. graph.Initializer.Where(t => needed.Contains(t.Name))];
        graph.Initializer.Clear();
        graph.Initializer.Add(initializers);
        ValueInfoProto[] values = [.. graph.ValueInfo.Where(v => needed.Contains(v.Name))];
        graph.ValueInfo.Clear();
        graph.ValueInfo.Add(values);
    }

    /// <summary>
    /// The feature count the outputs give by their declared shapes (dimension 1 of each, [N, F] or [N, C, H, W]), or
    /// null when a shape is not declared.
    /// </summary>
    public static int? DeclaredFeatureCount(ModelProto model, IReadOnlyList<string> outputs)
    {
        int total = 0;
        foreach (string name in outputs)
        {
            var dims = model.Graph.Output.FirstOrDefault(o => o.Name == name)?.Type?.TensorType?.Shape?.Dim;
            if (dims is not { Count: 2 or 4 } || !dims[1].HasDimValue)
            {
                return null;
            }

            total += (int)dims[1].DimValue;
        }

        return total;
    }

    private static string Describe(ValueInfoProto value)
    {
        var dims = value.Type?.TensorType?.Shape?.Dim;
        return dims is null
            ? value.Name
            : $"{value.Name} [{string.Join(", ", dims.Select(d => d.HasDimValue ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.HasDimParam ? d.DimParam : "?"))}]";
    }

    public static float[] ReadInitializer(string path, string name)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        TensorProto tensor = model.Graph.Initializer.FirstOrDefault(t => t.Name == name)
            ?? throw new InvalidDataException($"{path} has no initializer '{name}'.");
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
        {
            throw new InvalidDataException($"{path}#{name} is not a float tensor.");
        }

        return tensor.FloatData.Count > 0
            ? tensor.FloatData.ToArray()
            : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
    }
}
