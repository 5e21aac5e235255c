using System.Text.Json;
using Google.Protobuf;
using Onnx;

namespace ArtGrid.Inference;

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

    /// <summary>
    /// Reads and checks a version folder: the config on its own, then against the graph (the input and every output
    /// exist, and the head weighs as many features as the outputs give where the graph declares their sizes).
    /// </summary>
    /// <exception cref="InvalidDataException">The message names the file at fault.</exception>
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

        config.Validate(configPath);
        string backbonePath = ResolveAsset(versionDir, config.Backbone.File);
        ModelInputSpec input;
        try
        {
            input = BuildInputSpec(versionDir, config.Input);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"{configPath}: {ex.Message}", ex);
        }

        LinearHead? head = null;
        if (config.Output.Kind == OutputKind.Features)
        {
            string headPath = Path.Combine(versionDir, config.Head);
            if (!File.Exists(headPath))
            {
                throw new InvalidDataException($"{configPath}: output.kind features needs the linear head {Path.GetFullPath(headPath)}, which does not exist.");
            }

            try
            {
                head = LinearHead.Load(headPath);
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException)
            {
                throw new InvalidDataException($"{headPath}: {ex.Message}", ex);
            }
        }

        AttributionHead? attribution = null;
        if (head is not null && config.Attribution is { Length: > 0 } attributionFile)
        {
            string attributionPath = Path.Combine(versionDir, attributionFile);
            try
            {
                attribution = AttributionHead.Load(attributionPath);
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException or IOException)
            {
                throw new InvalidDataException($"{attributionPath}: {ex.Message}", ex);
            }

            if (attribution.FeatureCount != head.FeatureCount)
            {
                throw new InvalidDataException($"{attributionPath} weighs {attribution.FeatureCount} features; the head {config.Head} weighs {head.FeatureCount}.");
            }
        }

        ModelProto graph = OnnxGraphs.Prepare(backbonePath, config.Backbone, input);
        if (head is not null && OnnxGraphs.DeclaredFeatureCount(graph, config.Backbone.OutputNames) is { } declared && declared != head.FeatureCount)
        {
            throw new InvalidDataException(
                $"{Path.Combine(versionDir, config.Head)} weighs {head.FeatureCount} features; the outputs {string.Join(" + ", config.Backbone.OutputNames)} of {backbonePath} give {declared}.");
        }

        return new LoadedModel($"{config.Name}/{config.Version}", versionDir, config, input, head, backbonePath)
        {
            Graph = new PreparedGraph(graph.ToByteArray()),
            Attribution = attribution,
        };
    }

    public static ModelInputSpec BuildInputSpec(string versionDir, InputConfig input)
    {
        if (!Enum.TryParse(input.Layout, ignoreCase: true, out TensorLayout layout) || !Enum.IsDefined(layout))
        {
            throw new InvalidDataException($"input.layout '{input.Layout}' must be NCHW or NHWC.");
        }

        if (!Enum.TryParse(input.ChannelOrder, ignoreCase: true, out ChannelOrder order) || !Enum.IsDefined(order))
        {
            throw new InvalidDataException($"input.channelOrder '{input.ChannelOrder}' must be RGB or BGR.");
        }

        if (string.IsNullOrWhiteSpace(input.Name))
        {
            throw new InvalidDataException("input.name must name the graph's image input.");
        }

        if (input.Width < 1 || input.Height < 1 || (long)input.Width * input.Height > 16_777_216)
        {
            throw new InvalidDataException($"input.width and input.height ({input.Width}x{input.Height}) must be positive, at most 16M pixels in all.");
        }

        if (input.Mean is not { Length: 3 } || input.Std is not { Length: 3 })
        {
            throw new InvalidDataException("input: mean and std need three values, in model channel order.");
        }

        if (input.Std.Any(s => !(s > 0f) || !float.IsFinite(s)) || input.Mean.Any(m => !float.IsFinite(m)) || !(input.Scale > 0f) || !float.IsFinite(input.Scale))
        {
            throw new InvalidDataException("input: scale and every std must be positive and finite, every mean finite.");
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

        ImageFit fit = (input.Fit ?? "stretch").ToLowerInvariant() switch
        {
            "stretch" => ImageFit.Stretch,
            "crop" => ImageFit.Crop,
            string other => throw new InvalidDataException($"input.fit '{other}' is neither 'stretch' nor 'crop'."),
        };
        if (input.MaxSide < 0 || (input.MaxSide > 0 && input.MaxSide < Math.Max(input.Width, input.Height)))
        {
            throw new InvalidDataException($"input.maxSide {input.MaxSide} must be 0 (no limit) or at least the input's longer side ({Math.Max(input.Width, input.Height)}).");
        }

        return new ModelInputSpec(input.Name, input.Width, input.Height, layout, order, input.Scale, input.Mean, input.Std, meanImage, fit, input.MaxSide);
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
