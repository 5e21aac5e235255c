using System.Globalization;
using ScottPlot;

namespace ArtGrid.Training.Evaluation;

/// <summary>
/// The three pictures of an evaluation (ROC, precision-recall, reliability), drawn with ScottPlot, so that a reader of
/// report.md sees where the model's threshold and the operating point sit on the curves.
/// </summary>
public static class EvaluationPlots
{
    public const int Width = 800;
    public const int Height = 600;

    public const string RocFile = "roc.png";
    public const string PrecisionRecallFile = "pr.png";
    public const string CalibrationFile = "calibration.png";

    private static readonly Color CurveColour = new(31, 119, 180);
    /// <summary>The marker of the model's threshold (red).</summary>
    internal static readonly Color ModelThresholdColour = new(214, 39, 40);

    /// <summary>The marker of the operating point (green).</summary>
    internal static readonly Color OperatingPointColour = new(44, 160, 44);

    /// <summary>
    /// Writes roc.png, pr.png and calibration.png into <paramref name="directory"/>. Returns a warning when no font
    /// was found (the plots are then drawn without text), else null.
    /// </summary>
    public static string? Write(EvaluationReport report, string directory)
    {
        string? font = PlotFont.Name.Value;
        Save(Roc(report), font, Path.Combine(directory, RocFile));
        Save(PrecisionRecall(report), font, Path.Combine(directory, PrecisionRecallFile));
        Save(Calibration(report), font, Path.Combine(directory, CalibrationFile));
        return font is null && !PlotFont.HasDefault
            ? $"no TrueType font found (looked for {string.Join(", ", PlotFont.Files)} under {string.Join(", ", PlotFont.Folders())}): the plots have no text. Installing Debian's fonts-dejavu-core fixes it."
            : null;
    }

    private static Plot Roc(EvaluationReport report)
    {
        var plot = new Plot();
        Unit(plot, "False positive rate (human images flagged as AI)", "True positive rate (recall on AI images)");
        if (report.RocCurve.Count == 0)
        {
            plot.Title($"ROC curve: n/a for {report.Model} (needs both ai and human images)");
            return plot;
        }

        plot.Title($"ROC curve, {report.Model}, {report.Scored} images");
        Dashed(plot, 0, 0, 1, 1, "chance");
        Curve(plot, [.. report.RocCurve.Select(p => p.FalsePositiveRate)], [.. report.RocCurve.Select(p => p.TruePositiveRate)], $"ROC (AUC {Number(report.Overall.RocAuc)})", stepwise: false);
        Mark(plot, report.Overall.FalsePositiveRate, report.Overall.Recall, ModelThresholdColour, ModelThresholdLabel(report));
        if (report.OperatingPoint is { } op)
        {
            Mark(plot, op.FalsePositiveRate, op.Recall, OperatingPointColour, OperatingPointLabel(op));
        }

        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static Plot PrecisionRecall(EvaluationReport report)
    {
        var plot = new Plot();
        Unit(plot, "Recall (AI images flagged)", "Precision (flagged images that are AI)");
        if (report.PrecisionRecallCurve.Count == 0)
        {
            plot.Title($"Precision-recall curve: n/a for {report.Model} (no AI images)");
            return plot;
        }

        plot.Title($"Precision-recall curve, {report.Model}, {report.Scored} images");
        double prevalence = (double)report.Overall.Ai / report.Overall.Count;
        Dashed(plot, 0, prevalence, 1, prevalence, $"chance (share of AI images {prevalence:0.00})");

        // Step-wise, as average precision sums it: from each point, straight up or down to the next precision, then across.
        Curve(plot, [.. report.PrecisionRecallCurve.Select(p => p.Recall)], [.. report.PrecisionRecallCurve.Select(p => p.Precision)], $"precision-recall (AP {Number(report.Overall.AveragePrecision)})", stepwise: true);
        Mark(plot, report.Overall.Recall, report.Overall.Precision, ModelThresholdColour, ModelThresholdLabel(report));
        if (report.OperatingPoint is { } op)
        {
            Mark(plot, op.Recall, op.Precision, OperatingPointColour, OperatingPointLabel(op));
        }

        plot.ShowLegend(Alignment.LowerLeft);
        return plot;
    }

    private static Plot Calibration(EvaluationReport report)
    {
        var plot = new Plot();
        Unit(plot, "AI probability (mean in each bin)", "Observed fraction of AI images");
        plot.Title($"Reliability, {report.Model}, {report.Scored} images (ECE {Number(report.ExpectedCalibrationError)})");
        int total = report.Calibration.Sum(b => b.Count);
        if (total > 0)
        {
            var bars = plot.Add.Bars(
                [.. report.Calibration.Select(b => (b.Lower + b.Upper) / 2)],
                [.. report.Calibration.Select(b => (double)b.Count / total)]);
            foreach (Bar bar in bars.Bars)
            {
                bar.Size = 0.09;
                bar.FillColor = new Color(200, 200, 200);
                bar.LineWidth = 0;
            }

            bars.LegendText = "share of images in the bin";
        }

        Dashed(plot, 0, 0, 1, 1, "perfectly calibrated");
        ReliabilityBin[] filled = [.. report.Calibration.Where(b => b.Count > 0)];
        if (filled.Length > 0)
        {
            var points = plot.Add.Scatter(filled.Select(b => b.MeanPredicted!.Value).ToArray(), filled.Select(b => b.ObservedAiFraction!.Value).ToArray(), CurveColour);
            points.LineWidth = 2;
            points.MarkerSize = 8;
            points.LegendText = "observed (10 equal-width bins)";
        }

        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static void Unit(Plot plot, string x, string y)
    {
        plot.XLabel(x);
        plot.YLabel(y);
        plot.Axes.SetLimits(-0.02, 1.02, -0.02, 1.02);
    }

    private static void Curve(Plot plot, double[] x, double[] y, string legend, bool stepwise)
    {
        var curve = plot.Add.Scatter(x, y, CurveColour);
        curve.LineWidth = 2;
        curve.MarkerSize = 0;
        curve.LegendText = legend;
        if (stepwise)
        {
            curve.ConnectStyle = ConnectStyle.StepVertical;
        }
    }

    private static void Dashed(Plot plot, double x1, double y1, double x2, double y2, string legend)
    {
        var line = plot.Add.Line(x1, y1, x2, y2);
        line.LinePattern = LinePattern.Dashed;
        line.Color = Colors.Gray;
        line.LegendText = legend;
    }

    /// <summary>A marker where the point is defined (a rate with nothing to divide is left off the plot).</summary>
    private static void Mark(Plot plot, double? x, double? y, Color colour, string legend)
    {
        if (x is double px && y is double py)
        {
            var marker = plot.Add.Marker(px, py, MarkerShape.FilledCircle, 12, colour);
            marker.LegendText = legend;
        }
    }

    private static string ModelThresholdLabel(EvaluationReport report) =>
        string.Create(CultureInfo.InvariantCulture, $"model threshold {report.ModelThreshold:0.###}");

    private static string OperatingPointLabel(OperatingPointMetrics op) =>
        string.Create(CultureInfo.InvariantCulture, $"FPR ≤ {op.TargetFalsePositiveRate:0.###%} on this set (threshold {op.Threshold:0.0000})");

    private static string Number(double? value) => value is double v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private static void Save(Plot plot, string? font, string path)
    {
        if (font is not null)
        {
            plot.Font.Set(font);
        }

        plot.SavePng(path, Width, Height);
    }
}
