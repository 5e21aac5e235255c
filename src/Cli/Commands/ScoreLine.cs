using System.Text.Json;
using System.Text.Json.Serialization;
using ArtGrid.GrainInterfaces;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// One line of <c>artgrid score</c>'s output: <c>label</c> is the merged verdict, <c>aiProbability</c> the classifier's,
/// <c>evidence</c> what the file says about its origin and <c>reasons</c> why the label is what it is; <c>map</c> (only
/// when maps are drawn) the PNG of its class activation map; <c>simulated</c> (only when true) marks a score from a
/// simulated device ("sim:N"), which is not a prediction.
/// </summary>
public sealed record ScoreLine(
    string Path,
    string? Sha256,
    string? Label,
    double? AiProbability,
    string Model,
    ScoreLineError? Error,
    IReadOnlyList<Evidence> Evidence,
    IReadOnlyList<string> Reasons,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Map = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Simulated = false)
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
        score.Error is null ? null : new ScoreLineError(score.Error.Code, score.Error.Message),
        score.Evidence ?? [],
        score.Reasons ?? [],
        Simulated: score.Simulated);

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

public sealed record ScoreLineError(string Code, string Message);
