using ArtGrid.Abstractions;
using ArtGrid.Grains.Inference;

namespace ArtGrid.Grains.Aggregation;

/// <summary>Turns probabilities into labels with the model's uncertain band, and image scores into a job verdict.</summary>
public static class VerdictPolicy
{
    /// <summary><c>ai</c> at or above the band's top, <c>human</c> below its bottom, <c>uncertain</c> inside.</summary>
    public static string Label(double aiProbability, ModelConfig model)
    {
        UncertainBand band = model.Uncertain;
        if (aiProbability >= Math.Max(band.High, model.Threshold))
        {
            return Labels.Ai;
        }

        return aiProbability < Math.Min(band.Low, model.Threshold) ? Labels.Human : Labels.Uncertain;
    }

    /// <summary>
    /// A post is as AI as its most AI-looking image: the job takes the highest probability among the images that
    /// scored. A job none of whose images scored has no label.
    /// </summary>
    public static JobVerdict Merge(string jobId, IReadOnlyList<ImageScore> images, ModelConfig model, string modelId, DateTimeOffset now)
    {
        double? top = images.Where(i => i.AiProbability is not null).Select(i => i.AiProbability!.Value).DefaultIfEmpty(double.NaN).Max();
        if (top is double p && double.IsNaN(p))
        {
            top = null;
        }

        string? label = top is null ? null : Label(top.Value, model);
        return new JobVerdict(jobId, label, top, modelId, images, now);
    }
}
