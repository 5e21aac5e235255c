using System.Text.Json;
using System.Text.Json.Serialization;
using ArtGrid.Abstractions;

namespace ArtGrid.Cli.Commands;

/// <summary>One line of <c>artgrid score</c>'s output.</summary>
public sealed record ScoreLine(
    string Path,
    string? Sha256,
    string? Label,
    double? AiProbability,
    string Model,
    ScoreLineError? Error)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static ScoreLine From(string path, ImageScore score) => new(
        path,
        score.Sha256,
        score.Label,
        score.AiProbability is double p ? Math.Round(p, 6) : null,
        score.Model,
        score.Error is null ? null : new ScoreLineError(score.Error.Code, score.Error.Message));

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

public sealed record ScoreLineError(string Code, string Message);
