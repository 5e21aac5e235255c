using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ArtGrid.Training.Evaluation;

/// <summary>
/// Writes what <c>artgrid eval</c> measured: report.md (tables for the engineer who decides whether a model ships and at
/// which threshold), metrics.json (the same numbers, for tools) and scores.csv (one row per CSV row, to recompute anything).
/// </summary>
public static class ReportFiles
{
    public const string ReportFile = "report.md";
    public const string MetricsFile = "metrics.json";
    public const string ScoresFile = "scores.csv";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void WriteMetrics(EvaluationReport report, string directory) =>
        File.WriteAllText(Path.Combine(directory, MetricsFile), JsonSerializer.Serialize(report, Json) + "\n");

    /// <summary>scores.csv: file, label, the grouping columns the CSV has, the classifier's AI probability (empty on error) and the error code (empty when scored).</summary>
    public static void WriteScores(IReadOnlyList<EvaluatedImage> images, string directory)
    {
        string[] groupColumns = [.. EvaluationReport.GroupColumns.Where(c => images.Count > 0 && images[0].Row.Columns.ContainsKey(c))];
        var csv = new StringBuilder();
        csv.AppendJoin(',', ["file", "label", .. groupColumns, "probability", "error"]).Append('\n');
        foreach (EvaluatedImage image in images)
        {
            string[] fields =
            [
                image.Row.File,
                image.Row.IsAi ? "ai" : "human",
                .. groupColumns.Select(c => image.Row.Columns[c]),
                image.Probability?.ToString("R", CultureInfo.InvariantCulture) ?? "",
                image.Error?.Code ?? "",
            ];
            csv.AppendJoin(',', fields.Select(CsvField)).Append('\n');
        }

        File.WriteAllText(Path.Combine(directory, ScoresFile), csv.ToString());
    }

    public static void WriteMarkdown(EvaluationReport report, string? plotWarning, string directory)
    {
        var md = new StringBuilder();
        SetMetrics all = report.Overall;
        md.Append(CultureInfo.InvariantCulture, $"# Evaluation of `{report.Model}`\n\n");
        md.Append(CultureInfo.InvariantCulture, $"- Labels: `{report.Labels}` ({report.Rows} rows); images: `{report.Images}`\n");
        md.Append(CultureInfo.InvariantCulture, $"- Run {report.CreatedAt:yyyy-MM-dd HH:mm:ss zzz}, {report.ElapsedSeconds:0.0} s, through the same embedded pipeline as `artgrid score` (the classifier's AI probability; provenance evidence does not count here)\n");
        md.Append(CultureInfo.InvariantCulture, $"- Scored: {report.Scored} ({all.Ai} ai, {all.Human} human); failed: {report.Failed}{(report.Failed > 0 ? " (left out of every metric; listed at the end)" : "")}\n\n");
        md.Append("The positive class is **ai**. A *false positive* is a human image flagged as AI: the false-positive rate (FPR) is the share of human images flagged, ");
        md.Append("*recall* the share of AI images flagged, *precision* the share of flagged images that are AI. An image is flagged when its probability is at or above the threshold.\n\n");

        md.Append("## Summary\n\n| measure | value | what it says |\n|---|---|---|\n");
        md.Append(CultureInfo.InvariantCulture, $"| ROC AUC | {N(all.RocAuc)} | chance that a random AI image scores above a random human one; 0.5 is a coin toss |\n");
        md.Append(CultureInfo.InvariantCulture, $"| average precision | {N(all.AveragePrecision)} | precision averaged over recall, step-wise (as scikit-learn); chance is the share of AI images, {(all.Count > 0 ? N((double)all.Ai / all.Count) : "n/a")} |\n");
        md.Append(CultureInfo.InvariantCulture, $"| expected calibration error | {N(report.ExpectedCalibrationError)} | mean gap between the probability and the observed share of AI images, over 10 bins; 0 is calibrated |\n");
        md.Append(CultureInfo.InvariantCulture, $"| accuracy at the model's threshold {report.ModelThreshold:0.###} | {N(all.Accuracy)} | share of images on the right side of the threshold |\n");
        md.Append(CultureInfo.InvariantCulture, $"| FPR at the model's threshold | {N(all.FalsePositiveRate)} | {all.FalsePositives} of {all.Human} human images flagged |\n");
        md.Append(CultureInfo.InvariantCulture, $"| recall at the model's threshold | {N(all.Recall)} | {all.TruePositives} of {all.Ai} AI images flagged |\n");
        if (report.OperatingPoint is { } op)
        {
            md.Append(CultureInfo.InvariantCulture, $"| threshold for FPR ≤ {op.TargetFalsePositiveRate:0.###%} | {op.Threshold:0.0000} | the smallest threshold that flags at most that share of this set's human images |\n");
            md.Append(CultureInfo.InvariantCulture, $"| recall at that threshold | {N(op.Recall)} | FPR there {N(op.FalsePositiveRate)} ({op.FlaggedHuman} of {all.Human} human images) |\n");
        }

        md.Append(CultureInfo.InvariantCulture, $"\n## Confusion matrix at the model's threshold ({report.ModelThreshold:0.###})\n\n");
        md.Append(CultureInfo.InvariantCulture, $"| actual \\ predicted | ai (p ≥ {report.ModelThreshold:0.###}) | human (p < {report.ModelThreshold:0.###}) |\n|---|---|---|\n");
        md.Append(CultureInfo.InvariantCulture, $"| ai ({all.Ai}) | {all.TruePositives} | {all.FalseNegatives} |\n");
        md.Append(CultureInfo.InvariantCulture, $"| human ({all.Human}) | {all.FalsePositives} | {all.TrueNegatives} |\n\n");
        md.Append(CultureInfo.InvariantCulture, $"Precision {N(all.Precision)}, mean AI probability {N(all.MeanProbability)}.\n");

        md.Append("\n## Operating point\n\n");
        if (report.OperatingPoint is { } point)
        {
            md.Append("| target FPR | threshold | FPR reached | human flagged | recall | precision |\n|---|---|---|---|---|---|\n");
            md.Append(CultureInfo.InvariantCulture, $"| {point.TargetFalsePositiveRate:0.###%} | {point.Threshold:0.0000}{(point.FlaggedHuman == 0 ? " (just above the highest human score)" : "")} | {N(point.FalsePositiveRate)} | {point.FlaggedHuman} of {all.Human} | {N(point.Recall)} | {N(point.Precision)} |\n\n");
            if (report.SuggestedUncertainBand is { } band)
            {
                md.Append(band.Low == band.High
                    ? string.Create(CultureInfo.InvariantCulture, $"No uncertain band: on this set the threshold for FPR ≤ {report.LooseFalsePositiveRate:0.###%} is the operating threshold itself.\n\n")
                    : string.Create(CultureInfo.InvariantCulture, $"Uncertain band these scores suggest: [{band.Low:0.0000}, {band.High:0.0000}): at or above {band.High:0.0000} `ai` (FPR ≤ {point.TargetFalsePositiveRate:0.###%}), below {band.Low:0.0000} `human` (the threshold for FPR ≤ {report.LooseFalsePositiveRate:0.###%}), `uncertain` between.\n\n"));
            }

            md.Append("A threshold chosen on a set and measured on the same set is optimistic: confirm it on images the model and the threshold never saw before putting it in `model.json`.\n");
        }
        else
        {
            md.Append("n/a: the set has no scored human image, so no false-positive rate can be measured.\n");
        }

        md.Append("\n## Calibration\n\n| AI probability | images | mean probability | observed AI share |\n|---|---|---|---|\n");
        foreach (ReliabilityBin bin in report.Calibration)
        {
            md.Append(CultureInfo.InvariantCulture, $"| [{bin.Lower:0.0}, {bin.Upper:0.0}{(bin.Upper >= 1 ? "]" : ")")} | {bin.Count} | {N(bin.MeanPredicted)} | {N(bin.ObservedAiFraction)} |\n");
        }

        foreach ((string column, IReadOnlyList<GroupMetrics> groups) in report.Groups)
        {
            md.Append(CultureInfo.InvariantCulture, $"\n## By {column}\n\n");
            md.Append("AUC and average precision are n/a for a group with one class; FPR needs human images and recall AI images. ");
            md.Append(CultureInfo.InvariantCulture, $"\"At op.\" is at the operating threshold{(report.OperatingPoint is { } o ? string.Create(CultureInfo.InvariantCulture, $" {o.Threshold:0.0000}") : " (n/a)")}.\n\n");
            md.Append(CultureInfo.InvariantCulture, $"| {column} | images | ai | human | failed | accuracy | ROC AUC | AP | FPR | recall | FPR at op. | recall at op. | mean p |\n");
            md.Append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            foreach (GroupMetrics group in groups)
            {
                SetMetrics m = group.Metrics;
                md.Append(CultureInfo.InvariantCulture, $"| {Cell(group.Value)} | {m.Count} | {m.Ai} | {m.Human} | {m.Failed} | {N(m.Accuracy)} | {N(m.RocAuc)} | {N(m.AveragePrecision)} | {N(m.FalsePositiveRate)} | {N(m.Recall)} | {N(m.FalsePositiveRateAtOperatingPoint)} | {N(m.RecallAtOperatingPoint)} | {N(m.MeanProbability)} |\n");
            }
        }

        md.Append("\n## Plots\n\n");
        md.Append(CultureInfo.InvariantCulture, $"![ROC curve]({EvaluationPlots.RocFile}) ![Precision-recall curve]({EvaluationPlots.PrecisionRecallFile}) ![Reliability]({EvaluationPlots.CalibrationFile})\n\n");
        md.Append("The red marker is the model's threshold, the green one the operating point.\n");
        if (plotWarning is not null)
        {
            md.Append(CultureInfo.InvariantCulture, $"\nNote: {plotWarning}\n");
        }

        md.Append(CultureInfo.InvariantCulture, $"\n## Failed images ({report.Failed})\n\n");
        if (report.Failures.Count == 0)
        {
            md.Append("None.\n");
        }
        else
        {
            md.Append("| file | error | message |\n|---|---|---|\n");
            foreach (EvaluationFailure failure in report.Failures)
            {
                md.Append(CultureInfo.InvariantCulture, $"| {Cell(failure.File)} | `{failure.Code}` | {Cell(failure.Message)} |\n");
            }
        }

        File.WriteAllText(Path.Combine(directory, ReportFile), md.ToString());
    }

    /// <summary>A number as the report prints it: three decimals, or n/a where the set does not define it.</summary>
    public static string N(double? value) => value is double v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    private static string CsvField(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : field;
}
