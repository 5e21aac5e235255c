using System.Text.Json;
using System.Text.Json.Serialization;

namespace ArtGrid.Grains.Inference;

/// <summary>The <c>model.json</c> of a model version: what the runtime needs to feed the model and read its answer.</summary>
public sealed record ModelConfig
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public string? Description { get; init; }

    /// <summary>The ONNX graph. A bare file name is looked up in the version folder, then under the application's <c>DnnImageModels/</c>.</summary>
    public required BackboneConfig Backbone { get; init; }

    public required InputConfig Input { get; init; }

    /// <summary>The linear head over the backbone's features; <c>head.json</c> by default.</summary>
    public string Head { get; init; } = "head.json";

    /// <summary>Class names by output index; index 1 is the positive (AI) class.</summary>
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
}

public sealed record BackboneConfig
{
    public required string File { get; init; }

    /// <summary>The graph output that carries the features ([N, F] or [N, F, 1, 1]).</summary>
    public required string Output { get; init; }

    /// <summary>Make the leading (batch) dimension of every input and output dynamic at load time.</summary>
    public bool DynamicBatch { get; init; } = true;
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
}

public sealed record UncertainBand(double Low, double High);
