using System.Text.Json;
using Google.Protobuf;
using Onnx;

namespace ArtGrid.Inference;

/// <summary>
/// A model version resolved from the repository and checked against its graph, ready to build sessions from.
/// <see cref="Head"/> is null when the graph itself answers (output kind logits or probabilities).
/// </summary>
public sealed record LoadedModel(string Id, string Directory, ModelConfig Config, ModelInputSpec Input, LinearHead? Head, string BackbonePath)
{
    /// <summary>The graph this load prepared, for the first session built from it (<see cref="PreparedGraph"/>).</summary>
    public PreparedGraph? Graph { get; init; }

    /// <summary>The generator-attribution head over the same features, when the version has one (<see cref="ModelConfig.Attribution"/>).</summary>
    public AttributionHead? Attribution { get; init; }
}
