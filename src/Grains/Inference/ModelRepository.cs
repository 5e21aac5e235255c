using System.Text.Json;
using ArtGrid.Grains.Imaging;
using Google.Protobuf;
using Onnx;

namespace ArtGrid.Grains.Inference;

/// <summary>A model version resolved from the repository, ready to build sessions from.</summary>
public sealed record LoadedModel(string Id, string Directory, ModelConfig Config, ModelInputSpec Input, LinearHead Head, string BackbonePath);

/// <summary>
/// <c>models/&lt;name&gt;/&lt;version&gt;/model.json</c> plus the head's weights. Versions sort by number when they are numbers.
/// </summary>
public sealed class ModelRepository(string root)
{
    public const string ConfigFile = "model.json";

    public string Root { get; } = root;

    /// <summary>Resolves "name" (newest version) or "name/version".</summary>
    public string ResolveDirectory(string model)
    {
        string[] parts = model.Split('/', 2, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new ModelNotFoundException($"No model named in '{model}'.");
        }

        string modelDir = Path.Combine(Root, parts[0]);
        if (!System.IO.Directory.Exists(modelDir))
        {
            throw new ModelNotFoundException($"Model '{parts[0]}' is not in the model repository {Path.GetFullPath(Root)}.");
        }

        if (parts.Length == 2)
        {
            string versionDir = Path.Combine(modelDir, parts[1]);
            return File.Exists(Path.Combine(versionDir, ConfigFile))
                ? versionDir
                : throw new ModelNotFoundException($"Model '{model}' has no {ConfigFile} in {Path.GetFullPath(versionDir)}.");
        }

        string? newest = Versions(parts[0]).LastOrDefault();
        return newest is not null
            ? Path.Combine(modelDir, newest)
            : throw new ModelNotFoundException($"Model '{parts[0]}' has no version folder with a {ConfigFile} in {Path.GetFullPath(modelDir)}.");
    }

    /// <summary>The model names: the repository's folders, in ordinal order (hidden ones skipped).</summary>
    public IReadOnlyList<string> Names() =>
        System.IO.Directory.Exists(Root)
            ? [.. System.IO.Directory.EnumerateDirectories(Root).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>The versions of a model: its folders that hold a <c>model.json</c>, oldest first (by number when they are numbers).</summary>
    public IReadOnlyList<string> Versions(string name)
    {
        string modelDir = Path.Combine(Root, name);
        return System.IO.Directory.Exists(modelDir)
            ? [.. System.IO.Directory.EnumerateDirectories(modelDir)
                .Where(d => File.Exists(Path.Combine(d, ConfigFile)))
                .Select(Path.GetFileName).OfType<string>()
                .OrderBy(v => long.TryParse(v, out long n) ? n : long.MinValue)
                .ThenBy(v => v, StringComparer.Ordinal)]
            : [];
    }

    public LoadedModel Load(string model) => LoadDirectory(ResolveDirectory(model));

    public static LoadedModel LoadDirectory(string versionDir)
    {
        string configPath = Path.Combine(versionDir, ConfigFile);
        ModelConfig config;
        try
        {
            config = JsonSerializer.Deserialize<ModelConfig>(File.ReadAllText(configPath), ModelConfig.JsonOptions)
                ?? throw new InvalidDataException("empty file");
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{configPath}: {ex.Message}", ex);
        }

        string backbonePath = ResolveAsset(versionDir, config.Backbone.File);
        ModelInputSpec input = BuildInputSpec(versionDir, config.Input);
        LinearHead head = LinearHead.Load(Path.Combine(versionDir, config.Head));
        return new LoadedModel($"{config.Name}/{config.Version}", versionDir, config, input, head, backbonePath);
    }

    public static ModelInputSpec BuildInputSpec(string versionDir, InputConfig input)
    {
        TensorLayout layout = Enum.Parse<TensorLayout>(input.Layout, ignoreCase: true);
        ChannelOrder order = Enum.Parse<ChannelOrder>(input.ChannelOrder, ignoreCase: true);
        if (input.Mean.Length != 3 || input.Std.Length != 3)
        {
            throw new InvalidDataException("input: mean and std need three values, in model channel order.");
        }

        float[]? meanImage = null;
        if (!string.IsNullOrEmpty(input.MeanImage))
        {
            string[] parts = input.MeanImage.Split('#', 2);
            if (parts.Length != 2)
            {
                throw new InvalidDataException($"input.meanImage '{input.MeanImage}' must read FILE.onnx#INITIALIZER.");
            }

            meanImage = OnnxGraphs.ReadInitializer(ResolveAsset(versionDir, parts[0]), parts[1]);
            if (meanImage.Length != 3 * input.Width * input.Height)
            {
                throw new InvalidDataException($"input.meanImage has {meanImage.Length} values, expected 3x{input.Height}x{input.Width}.");
            }
        }

        return new ModelInputSpec(input.Name, input.Width, input.Height, layout, order, input.Scale, input.Mean, input.Std, meanImage);
    }

    /// <summary>A file of the version folder, or one shipped by a NuGet package under the application's <c>DnnImageModels/</c>.</summary>
    public static string ResolveAsset(string versionDir, string file)
    {
        string local = Path.Combine(versionDir, file);
        if (File.Exists(local))
        {
            return local;
        }

        string shipped = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
        if (System.IO.Directory.Exists(shipped))
        {
            string? found = System.IO.Directory.EnumerateFiles(shipped, Path.GetFileName(file), SearchOption.AllDirectories).FirstOrDefault();
            if (found is not null)
            {
                return found;
            }
        }

        throw new ModelNotFoundException($"'{file}' is neither in {Path.GetFullPath(versionDir)} nor under {shipped} (restore and build the solution: the ResNet18 featurizer package ships it).");
    }
}

public sealed class ModelNotFoundException(string message) : Exception(message);

/// <summary>Reads and rewrites ONNX graphs.</summary>
public static class OnnxGraphs
{
    /// <summary>Loads a graph, and with <paramref name="dynamicBatch"/> makes the leading dimension of every input, output and value symbolic ("N").</summary>
    public static byte[] Load(string path, bool dynamicBatch)
    {
        if (!dynamicBatch)
        {
            return File.ReadAllBytes(path);
        }

        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        // SetDim makes dim 0 symbolic throughout the graph's declared shapes. A Reshape or Flatten with a constant
        // shape would pin the batch size again, so such graphs are refused rather than silently miscomputed.
        if (model.Graph.Node.Any(n => n.OpType is "Reshape" or "Flatten"))
        {
            throw new NotSupportedException($"{path}: the graph reshapes; a dynamic batch needs its shape constants rewritten too.");
        }

        model.Graph.SetDim();
        return model.ToByteArray();
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
