using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ArtGrid.Inference;

/// <summary>
/// The <c>model.json</c> of a model version: what the runtime needs to feed the model and read its answer. Every field
/// is documented, with its default, in docs/MODELS.md.
/// </summary>
public sealed record ModelConfig
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public string? Description { get; init; }

    /// <summary>The ONNX graph. A bare file name is looked up in the version folder, then under the application's <c>DnnImageModels/</c>.</summary>
    public required BackboneConfig Backbone { get; init; }

    public required InputConfig Input { get; init; }

    /// <summary>How the graph's outputs become the AI probability; features read by a linear head by default.</summary>
    public OutputConfig Output { get; init; } = new();

    /// <summary>The linear head over the backbone's features; <c>head.json</c> by default. Read only when <see cref="Output"/> is <c>features</c>.</summary>
    public string Head { get; init; } = "head.json";

    /// <summary>
    /// Optional generator-attribution head over the same features (<c>attribution.json</c>): the family an image most
    /// resembles, shown among a verdict's reasons. Read only when <see cref="Output"/> is <c>features</c>.
    /// </summary>
    public string? Attribution { get; init; }

    /// <summary>Class names by output index; the AI class is at <see cref="OutputConfig.AiIndex"/> (1 by default).</summary>
    public IReadOnlyList<string> Labels { get; init; } = ["human", "ai"];

    /// <summary>Binary decision point on the AI probability (used for accuracy and for the metrics).</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>Probabilities inside [Low, High) are reported as <c>uncertain</c>.</summary>
    public UncertainBand Uncertain { get; init; } = new(0.5, 0.5);

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>
    /// Checks what can be checked without the graph: every bad combination is refused with the field named.
    /// Checks against the graph (names, shapes, head length) follow when the graph is read.
    /// </summary>
    /// <exception cref="InvalidDataException">The message starts with <paramref name="configPath"/>.</exception>
    public void Validate(string configPath)
    {
        [DoesNotReturn]
        void Fail(string message) => throw new InvalidDataException($"{configPath}: {message}");

        // JSON null gets past "required": name the field rather than fail later on a null reference.
        foreach ((string field, object? value) in new (string, object?)[] { ("backbone", Backbone), ("input", Input), ("output", Output), ("labels", Labels), ("uncertain", Uncertain) })
        {
            if (value is null)
            {
                Fail($"{field} is null; leave it out for the default, or give a value.");
            }
        }

        if (string.IsNullOrWhiteSpace(Backbone.File))
        {
            Fail("backbone.file names no ONNX file.");
        }

        if (Backbone.Output is not null && Backbone.Outputs is not null)
        {
            Fail("give backbone.output (one graph output) or backbone.outputs (a list), not both.");
        }

        IReadOnlyList<string> outputs = Backbone.OutputNames;
        if (outputs.Count == 0 || outputs.Any(string.IsNullOrWhiteSpace))
        {
            Fail("backbone.outputs must name at least one graph output, and no empty name.");
        }

        if (outputs.Distinct(StringComparer.Ordinal).Count() != outputs.Count)
        {
            Fail($"backbone.outputs names an output twice ({string.Join(", ", outputs)}).");
        }

        if (Backbone.FeatureMap is { } featureMap && !outputs.Contains(featureMap, StringComparer.Ordinal))
        {
            Fail($"backbone.featureMap '{featureMap}' must be one of backbone.outputs ({string.Join(", ", outputs)}): its pooled values are the features the head weighs.");
        }

        if (!Enum.IsDefined(Output.Kind))
        {
            Fail($"output.kind must be features, logits or probabilities, not {(int)Output.Kind}.");
        }

        if (Output.Kind == OutputKind.Features && string.IsNullOrWhiteSpace(Head))
        {
            Fail("output.kind features needs a linear head: set head to the head's file (head.json).");
        }

        if (Output.Kind != OutputKind.Features)
        {
            if (outputs.Count != 1)
            {
                Fail($"output.kind {Output.Kind.ToString().ToLowerInvariant()} reads one graph output; backbone.outputs names {outputs.Count}.");
            }

            if (Backbone.FeatureMap is not null)
            {
                Fail("backbone.featureMap needs output.kind features: an activation map weighs the feature map by the linear head's weights.");
            }
        }

        if (Output.AiIndex < 0)
        {
            Fail($"output.aiIndex must be 0 or more, not {Output.AiIndex}.");
        }

        if (Labels.Count < 2 || Output.AiIndex >= Labels.Count)
        {
            Fail($"labels ({string.Join(", ", Labels)}) must name at least two classes, the AI class at output.aiIndex {Output.AiIndex}.");
        }

        if (!(Threshold is >= 0 and <= 1) || !(Uncertain.Low >= 0 && Uncertain.Low <= Uncertain.High && Uncertain.High <= 1))
        {
            Fail($"threshold ({Threshold}) and uncertain [{Uncertain.Low}, {Uncertain.High}] must lie in [0, 1], low <= high.");
        }
    }
}

public sealed record BackboneConfig
{
    public required string File { get; init; }

    /// <summary>One graph output that carries the features: shorthand for <see cref="Outputs"/> = [this] (the original form).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Output { get; init; }

    /// <summary>
    /// Graph outputs, or any value a node of the graph computes. Each is [N, F] or [N, C, H, W]; a 4-D one is averaged
    /// over H and W. Concatenated in this order, they are the feature vector the head reads.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Outputs { get; init; }

    /// <summary>
    /// A 4-D output [N, C, H, W] among <see cref="Outputs"/> whose pooled values feed the head: with it, each image also
    /// gets a class activation map of H x W, from the same run.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FeatureMap { get; init; }

    /// <summary>
    /// Make a fixed leading (batch) dimension symbolic at load time, and with it the input's height and width when
    /// the input size differs from the graph's; false uses the graph exactly as stored.
    /// </summary>
    public bool DynamicBatch { get; init; } = true;

    /// <summary>The outputs to fetch, in feature order: <see cref="Outputs"/>, else <see cref="Output"/>.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> OutputNames => Outputs ?? (Output is null ? [] : [Output]);
}

/// <summary>What the graph's (pooled, concatenated) output is.</summary>
public enum OutputKind
{
    /// <summary>Features: the linear head (<see cref="ModelConfig.Head"/>) turns them into the AI probability.</summary>
    Features,

    /// <summary>Class scores before normalisation: one column goes through a sigmoid, K &gt;= 2 columns through a softmax.</summary>
    Logits,

    /// <summary>Class probabilities: one column is p(ai), K &gt;= 2 columns are read at <see cref="OutputConfig.AiIndex"/>.</summary>
    Probabilities,
}

public sealed record OutputConfig
{
    public OutputKind Kind { get; init; } = OutputKind.Features;

    /// <summary>The AI class's column when the output has K &gt;= 2 columns (logits or probabilities).</summary>
    public int AiIndex { get; init; } = 1;
}

public sealed record InputConfig
{
    public required string Name { get; init; }

    public int Width { get; init; } = 224;

    public int Height { get; init; } = 224;

    public string Layout { get; init; } = "NCHW";

    public string ChannelOrder { get; init; } = "RGB";

    /// <summary>Multiplies the 0..255 pixel value before the mean is subtracted (1 keeps 0..255, 1/255 gives 0..1).</summary>
    public float Scale { get; init; } = 1f;

    /// <summary>Per channel, in model channel order.</summary>
    public float[] Mean { get; init; } = [0f, 0f, 0f];

    public float[] Std { get; init; } = [1f, 1f, 1f];

    /// <summary>Optional per-pixel mean: "FILE.onnx#INITIALIZER" (planar [1,3,H,W], model channel order). Overrides <see cref="Mean"/>.</summary>
    public string? MeanImage { get; init; }

    /// <summary>
    /// How the image becomes width x height: <c>stretch</c> (default) resizes the whole image, <c>crop</c> cuts the middle
    /// window at the image's own scale (see <see cref="ImageFit"/>).
    /// </summary>
    public string Fit { get; init; } = "stretch";

    /// <summary>With <c>crop</c>: images whose longer side exceeds this are first shrunk to it (0: never), as the training set was.</summary>
    public int MaxSide { get; init; }
}

public sealed record UncertainBand(double Low, double High);
