using System.Text.Json.Serialization;
using ArtGrid.Inference;

namespace ArtGrid.Training.Evaluation;

/// <summary>One row of the labels CSV and what the pipeline answered for it: the classifier's AI probability, or an error.</summary>
public sealed record EvaluatedImage(LabelledImage Row, double? Probability, ImageError? Error);

/// <summary>
/// The measures of one set of images (the whole set, or one group such as a source). Rates that a set cannot define
/// (AUC of a single-class group, recall without AI images, FPR without human images) are null. "At the model's
/// threshold" means flagged when p &gt;= the model's <c>threshold</c>; "at the operating point", when p &gt;= the threshold
/// that keeps the false-positive rate of the whole set within the target.
/// </summary>
public sealed record SetMetrics(
    int Count,
    int Ai,
    int Human,
    int Failed,
    double? Accuracy,
    double? RocAuc,
    double? AveragePrecision,
    double? Precision,
    double? Recall,
    double? FalsePositiveRate,
    int TruePositives,
    int FalsePositives,
    int TrueNegatives,
    int FalseNegatives,
    double? MeanProbability,
    double? RecallAtOperatingPoint,
    double? FalsePositiveRateAtOperatingPoint);

/// <summary>The metrics of the images that share one value of a grouping column (a source, a generator, a kind).</summary>
public sealed record GroupMetrics(string Value, SetMetrics Metrics);

/// <summary>
/// The threshold that keeps the false-positive rate on this set's human images within <see cref="TargetFalsePositiveRate"/>
/// (<see cref="OperatingPoint.Threshold"/>), and what it gives here.
/// </summary>
public sealed record OperatingPointMetrics(
    double TargetFalsePositiveRate,
    double Threshold,
    double FalsePositiveRate,
    int FlaggedHuman,
    double? Recall,
    double? Precision);

/// <summary>An image left out of the metrics because the pipeline could not score it.</summary>
public sealed record EvaluationFailure(string File, string Code, string Message);

/// <summary>
/// Everything <c>artgrid eval</c> measured on one labelled set: written as metrics.json, report.md and the plots. Images
/// that failed are counted and listed, and left out of every metric.
/// </summary>
public sealed record EvaluationReport(
    string Model,
    string Labels,
    string Images,
    DateTimeOffset CreatedAt,
    double ElapsedSeconds,
    int Rows,
    int Scored,
    int Failed,
    double ModelThreshold,
    SetMetrics Overall,
    OperatingPointMetrics? OperatingPoint,
    UncertainBand? SuggestedUncertainBand,
    double LooseFalsePositiveRate,
    double? ExpectedCalibrationError,
    IReadOnlyList<ReliabilityBin> Calibration,
    IReadOnlyDictionary<string, IReadOnlyList<GroupMetrics>> Groups,
    IReadOnlyList<EvaluationFailure> Failures)
{
    /// <summary>The CSV columns reported group by group when the CSV has them.</summary>
    public static readonly IReadOnlyList<string> GroupColumns = ["source", "generator", "kind"];

    /// <summary>The value shown for an empty grouping cell.</summary>
    public const string Blank = "(blank)";

    /// <summary>The ROC curve of the scored images (empty when one class is missing); for the plots.</summary>
    [JsonIgnore]
    public IReadOnlyList<RocPoint> RocCurve { get; private init; } = [];

    /// <summary>The precision-recall curve of the scored images (empty without AI images); for the plots.</summary>
    [JsonIgnore]
    public IReadOnlyList<PrecisionRecallPoint> PrecisionRecallCurve { get; private init; } = [];

    public static EvaluationReport Compute(
        IReadOnlyList<EvaluatedImage> images,
        string model,
        double modelThreshold,
        double targetFalsePositiveRate,
        string labels,
        string imagesDir,
        DateTimeOffset createdAt,
        TimeSpan elapsed)
    {
        EvaluatedImage[] scored = [.. images.Where(i => i.Error is null)];
        bool[] isAi = [.. scored.Select(i => i.Row.IsAi)];
        double[] probability = [.. scored.Select(i => i.Probability!.Value)];
        double[] humanScores = [.. scored.Where(i => !i.Row.IsAi).Select(i => i.Probability!.Value)];

        double? operatingThreshold = humanScores.Length == 0 ? null : Inference.OperatingPoint.Threshold(humanScores, targetFalsePositiveRate);
        double loose = Math.Max(targetFalsePositiveRate, Inference.OperatingPoint.DefaultLooseFalsePositiveRate);
        OperatingPointMetrics? operatingPoint = null;
        if (operatingThreshold is double t)
        {
            SetMetrics atT = Measure(scored, t, null);
            operatingPoint = new OperatingPointMetrics(targetFalsePositiveRate, t, atT.FalsePositiveRate!.Value, atT.FalsePositives, atT.Recall, atT.Precision);
        }

        IReadOnlyList<ReliabilityBin> bins = CurveMetrics.Reliability(isAi, probability);
        var groups = new Dictionary<string, IReadOnlyList<GroupMetrics>>(StringComparer.Ordinal);
        foreach (string column in GroupColumns.Where(c => images.Count > 0 && images[0].Row.Columns.ContainsKey(c)))
        {
            groups[column] = [.. images
                .GroupBy(i => i.Row.Columns[column] is { Length: > 0 } v ? v.Trim() : Blank, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new GroupMetrics(g.Key, Measure([.. g], modelThreshold, operatingThreshold)))];
        }

        return new EvaluationReport(
            model,
            labels,
            imagesDir,
            createdAt,
            Math.Round(elapsed.TotalSeconds, 1),
            images.Count,
            scored.Length,
            images.Count - scored.Length,
            modelThreshold,
            Measure(images, modelThreshold, operatingThreshold),
            operatingPoint,
            humanScores.Length == 0 ? null : Inference.OperatingPoint.UncertainBand(humanScores, targetFalsePositiveRate, loose),
            loose,
            Finite(CurveMetrics.ExpectedCalibrationError(bins)),
            bins,
            groups,
            [.. images.Where(i => i.Error is not null).Select(i => new EvaluationFailure(i.Row.File, i.Error!.Code, i.Error.Message))])
        {
            RocCurve = CurveMetrics.RocCurve(isAi, probability),
            PrecisionRecallCurve = CurveMetrics.PrecisionRecallCurve(isAi, probability),
        };
    }

    /// <summary>The metrics of a set at the model's threshold, and at the operating threshold when there is one.</summary>
    private static SetMetrics Measure(IReadOnlyList<EvaluatedImage> images, double threshold, double? operatingThreshold)
    {
        EvaluatedImage[] scored = [.. images.Where(i => i.Error is null)];
        int failed = images.Count - scored.Length;
        if (scored.Length == 0)
        {
            return new SetMetrics(0, 0, 0, failed, null, null, null, null, null, null, 0, 0, 0, 0, null, null, null);
        }

        bool[] isAi = [.. scored.Select(i => i.Row.IsAi)];
        double[] probability = [.. scored.Select(i => i.Probability!.Value)];
        var atThreshold = BinaryMetrics.Compute(isAi, probability, threshold);
        bool bothClasses = atThreshold.Positives > 0 && atThreshold.Positives < scored.Length;
        BinaryMetrics? atOperatingPoint = operatingThreshold is double t ? BinaryMetrics.Compute(isAi, probability, t) : null;
        return new SetMetrics(
            scored.Length,
            atThreshold.Positives,
            scored.Length - atThreshold.Positives,
            failed,
            atThreshold.Accuracy,
            Finite(atThreshold.RocAuc),
            bothClasses ? CurveMetrics.AveragePrecision(isAi, probability) : null, // 1 by definition with AI images alone: says nothing
            Finite(atThreshold.Precision),
            Finite(atThreshold.Recall),
            Finite(atThreshold.FalsePositiveRate),
            atThreshold.TruePositives,
            atThreshold.FalsePositives,
            atThreshold.TrueNegatives,
            atThreshold.FalseNegatives,
            probability.Average(),
            Finite(atOperatingPoint?.Recall),
            Finite(atOperatingPoint?.FalsePositiveRate));
    }

    private static double? Finite(double? value) => value is double v && double.IsFinite(v) ? v : null;
}
