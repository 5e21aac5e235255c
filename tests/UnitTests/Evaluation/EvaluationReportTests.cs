using System.Text.Json;
using ArtGrid.GrainInterfaces;
using ArtGrid.Training;
using ArtGrid.Training.Evaluation;
using SkiaSharp;

namespace ArtGrid.Tests.Evaluation;

/// <summary>The report of a hand-made evaluated set: overall and group metrics, failures left out, and the plots rendered for real.</summary>
public sealed class EvaluationReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-evalreport-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The nine images of CurveMetricsTests in two sources, plus one that failed to decode.
    private static IReadOnlyList<EvaluatedImage> Images() =>
    [
        Image("a1", true, "mixed", 0.9),
        Image("a2", true, "mixed", 0.8),
        Image("h1", false, "mixed", 0.7),
        Image("a3", true, "mixed", 0.6),
        Image("h2", false, "mixed", 0.6),
        Image("h3", false, "humans", 0.4),
        Image("a4", true, "mixed", 0.3),
        Image("h4", false, "humans", 0.2),
        Image("h5", false, "humans", 0.1),
        new(new LabelledImage("broken", false, new Dictionary<string, string> { ["source"] = "humans" }), null, new ImageError(ErrorCodes.DecodeFailed, "truncated")),
    ];

    private static EvaluatedImage Image(string file, bool isAi, string source, double p) =>
        new(new LabelledImage(file, isAi, new Dictionary<string, string> { ["source"] = source }), p, null);

    private static EvaluationReport Compute(IReadOnlyList<EvaluatedImage> images, double target = 0.2) =>
        EvaluationReport.Compute(images, "test/1", 0.5, target, "labels.csv", "images", DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(3));

    [Fact]
    public void OverallMetricsLeaveFailuresOutAndCountThem()
    {
        EvaluationReport report = Compute(Images());

        Assert.Equal((10, 9, 1), (report.Rows, report.Scored, report.Failed));
        EvaluationFailure failure = Assert.Single(report.Failures);
        Assert.Equal(("broken", "decode_failed"), (failure.File, failure.Code));

        SetMetrics all = report.Overall;
        Assert.Equal((9, 4, 5, 1), (all.Count, all.Ai, all.Human, all.Failed));
        Assert.Equal(0.775, all.RocAuc!.Value, 12);
        Assert.Equal(111 / 140.0, all.AveragePrecision!.Value, 12);

        // At 0.5: flagged 0.9, 0.8, 0.7, 0.6, 0.6 -> TP 3, FP 2, TN 3, FN 1.
        Assert.Equal((3, 2, 3, 1), (all.TruePositives, all.FalsePositives, all.TrueNegatives, all.FalseNegatives));
        Assert.Equal(6 / 9.0, all.Accuracy!.Value, 12);
        Assert.Equal(0.4, all.FalsePositiveRate!.Value, 12);
        Assert.Equal(0.75, all.Recall!.Value, 12);

        // FPR <= 0.2 on the five human scores {0.7, 0.6, 0.4, 0.2, 0.1}: 0.7 alone (1/5); recall there 2/4.
        OperatingPointMetrics op = report.OperatingPoint!;
        Assert.Equal((0.7, 0.2, 1), (op.Threshold, op.FalsePositiveRate, op.FlaggedHuman));
        Assert.Equal(0.5, op.Recall!.Value, 12);
        Assert.Equal(2 / 3.0, op.Precision!.Value, 12);
        Assert.Equal(2.6 / 9, report.ExpectedCalibrationError!.Value, 12);

        // Loose rate 0.2 as well (the default 5% is below the target): an empty band at 0.7.
        Assert.Equal(new Inference.UncertainBand(0.7, 0.7), report.SuggestedUncertainBand);
    }

    [Fact]
    public void GroupsReportWhatTheyCanDefine()
    {
        EvaluationReport report = Compute(Images());

        IReadOnlyList<GroupMetrics> sources = report.Groups["source"];
        Assert.Equal(["humans", "mixed"], sources.Select(g => g.Value));
        Assert.False(report.Groups.ContainsKey("generator"));

        // Only human images, one of them failed: no AUC, AP or recall; none of the three scored reaches 0.5.
        SetMetrics humans = sources[0].Metrics;
        Assert.Equal((3, 0, 3, 1), (humans.Count, humans.Ai, humans.Human, humans.Failed));
        Assert.Null(humans.RocAuc);
        Assert.Null(humans.AveragePrecision);
        Assert.Null(humans.Recall);
        Assert.Equal(0.0, humans.FalsePositiveRate);
        Assert.Equal(1.0, humans.Accuracy);
        Assert.Equal(0.0, humans.FalsePositiveRateAtOperatingPoint);

        // Mixed: AI 0.9, 0.8, 0.6, 0.3 against human 0.7, 0.6: 2 + 2 + 0.5 (the tie) + 0 of 8 pairs.
        SetMetrics mixed = sources[1].Metrics;
        Assert.Equal((6, 4, 2, 0), (mixed.Count, mixed.Ai, mixed.Human, mixed.Failed));
        Assert.Equal(4.5 / 8, mixed.RocAuc!.Value, 12);
        Assert.Equal(0.5, mixed.FalsePositiveRateAtOperatingPoint!.Value, 12);
        Assert.Equal(0.5, mixed.RecallAtOperatingPoint!.Value, 12);
    }

    [Fact]
    public void TheFilesAreWrittenAndThePlotsRender()
    {
        EvaluationReport report = Compute(Images());
        ReportFiles.WriteScores(Images(), _dir);
        ReportFiles.WriteMetrics(report, _dir);
        string? warning = EvaluationPlots.Write(report, _dir);
        ReportFiles.WriteMarkdown(report, warning, _dir);

        string[] csv = File.ReadAllLines(Path.Combine(_dir, ReportFiles.ScoresFile));
        Assert.Equal("file,label,source,probability,error", csv[0]);
        Assert.Equal("a1,ai,mixed,0.9,", csv[1]);
        Assert.Equal("broken,human,humans,,decode_failed", csv[10]);

        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, ReportFiles.MetricsFile)));
        Assert.Equal(10, metrics.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(JsonValueKind.Null, metrics.RootElement.GetProperty("groups").GetProperty("source")[0].GetProperty("metrics").GetProperty("rocAuc").ValueKind);

        string markdown = File.ReadAllText(Path.Combine(_dir, ReportFiles.ReportFile));
        Assert.Contains("| humans | 3 | 0 | 3 | 1 | 1.000 | n/a | n/a | 0.000 | n/a |", markdown);
        Assert.Contains("| broken | `decode_failed` | truncated |", markdown);

        foreach (string plot in new[] { EvaluationPlots.RocFile, EvaluationPlots.PrecisionRecallFile, EvaluationPlots.CalibrationFile })
        {
            PlotAssertions.AssertPlot(Path.Combine(_dir, plot));
        }
    }

    [Fact]
    public void ASingleClassSetStillGetsItsPlots()
    {
        EvaluatedImage[] humansOnly = [.. Images().Where(i => !i.Row.IsAi)];
        EvaluationReport report = Compute(humansOnly);

        Assert.Null(report.Overall.RocAuc);
        Assert.Null(report.Overall.Recall);
        Assert.Empty(report.RocCurve);
        EvaluationPlots.Write(report, _dir);

        // Empty axes with an n/a title (no curve: without a font on the machine, nothing but the frame and the grid).
        PlotAssertions.AssertPlot(Path.Combine(_dir, EvaluationPlots.RocFile), withCurves: false);
        PlotAssertions.AssertPlot(Path.Combine(_dir, EvaluationPlots.PrecisionRecallFile), withCurves: false);
        PlotAssertions.AssertPlot(Path.Combine(_dir, EvaluationPlots.CalibrationFile));
    }
}
