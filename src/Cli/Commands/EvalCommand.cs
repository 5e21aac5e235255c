using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Hosting.Embedded;
using ArtGrid.Inference;
using ArtGrid.Training;
using ArtGrid.Training.Evaluation;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid eval --labels CSV --images DIR</c>: scores a labelled set through the same embedded pipeline as
/// <c>artgrid score</c> and reports how the model does on it, overall and by source, generator and kind, with the
/// threshold that would keep false positives within a target. Writes report.md, metrics.json, scores.csv and three plots.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var labels = new Option<string>("--labels") { Description = "CSV with file,label (ai|human) and optional source, generator, kind columns.", Required = true };
        var images = new Option<string>("--images") { Description = "Folder the CSV's file names are relative to.", Required = true };
        var output = new Option<string?>("--out") { Description = "Folder to write the report to (default: eval-<model>-<timestamp>/)." };
        Option<string?> models = ModelOptions.Models();
        Option<string?> model = ModelOptions.Model();
        var targetFpr = new Option<double>("--target-fpr") { Description = "False-positive rate the operating point keeps within, on the human images of this set.", DefaultValueFactory = _ => OperatingPoint.DefaultTargetFalsePositiveRate };
        var inFlight = new Option<int>("--in-flight") { Description = "Images in flight at once.", DefaultValueFactory = _ => 64 };

        var command = new Command("eval", "Measure a model on a labelled image folder: AUC, average precision, FPR, recall, calibration, by source.")
        {
            labels, images, output, models, model, targetFpr, inFlight,
        };
        command.SetAction((result, cancellationToken) => RunAsync(
            result.GetValue(labels)!,
            result.GetValue(images)!,
            result.GetValue(output),
            EmbeddedCluster.Settings(result.GetValue(models), result.GetValue(model), maxBatch: null),
            result.GetValue(targetFpr),
            result.GetValue(inFlight),
            Console.Out,
            cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(
        string labelsPath,
        string imagesDir,
        string? outDir,
        IReadOnlyDictionary<string, string?> settings,
        double targetFalsePositiveRate,
        int inFlight,
        TextWriter output,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<LabelledImage> rows;
        try
        {
            rows = ReadDataset(labelsPath, imagesDir, targetFalsePositiveRate, inFlight);
        }
        catch (UsageException ex)
        {
            await Console.Error.WriteLineAsync($"artgrid eval: {ex.Message}");
            return ExitCodes.Usage;
        }

        await using EmbeddedCluster? cluster = await EmbeddedCluster.StartOrReportAsync("eval", settings, inFlight, verbose: false, cancellationToken);
        if (cluster is null)
        {
            return ExitCodes.Setup;
        }

        DateTimeOffset started = DateTimeOffset.Now;
        outDir ??= $"eval-{cluster.Model.Id.Replace('/', '-')}-{started:yyyyMMdd-HHmmss}";
        try
        {
            Directory.CreateDirectory(outDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"artgrid eval: cannot create the output folder {outDir}: {ex.Message}");
            return ExitCodes.Usage;
        }

        var clock = Stopwatch.StartNew();
        var evaluated = new EvaluatedImage[rows.Count];
        int lastPercentShown = 0;
        string[] files = [.. rows.Select(r => Path.Combine(imagesDir, r.File))];
        await Console.Error.WriteLineAsync($"artgrid eval: scoring {rows.Count} images with {cluster.Model.Id}");
        await cluster.Scorer.RunAsync(files, async (i, score) =>
        {
            evaluated[i] = score switch
            {
                { Error: { } error } => new EvaluatedImage(rows[i], null, error),
                { AiProbability: double p } => new EvaluatedImage(rows[i], p, null),
                _ => new EvaluatedImage(rows[i], null, new ImageError(ErrorCodes.InferenceFailed, "The pipeline returned no probability.")),
            };
            int percent = 100 * (i + 1) / rows.Count;
            if (percent / 10 > lastPercentShown / 10)
            {
                lastPercentShown = percent;
                await Console.Error.WriteLineAsync($"artgrid eval: {i + 1}/{rows.Count} images scored ({percent}%)");
            }
        }, cancellationToken);

        EvaluationReport report = EvaluationReport.Compute(
            evaluated, cluster.Model.Id, cluster.Model.Config.Threshold, targetFalsePositiveRate, labelsPath, imagesDir, started, clock.Elapsed);
        ReportFiles.WriteScores(evaluated, outDir);
        ReportFiles.WriteMetrics(report, outDir);
        string? plotWarning = EvaluationPlots.Write(report, outDir);
        if (plotWarning is not null)
        {
            await Console.Error.WriteLineAsync($"artgrid eval: warning: {plotWarning}");
        }

        ReportFiles.WriteMarkdown(report, plotWarning, outDir);
        await output.WriteAsync(Summary(report, outDir));
        await output.FlushAsync(cancellationToken);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Reads and checks the labelled set before anything starts: the CSV must parse and have rows, and every file it
    /// names must exist under the images folder.
    /// </summary>
    private static IReadOnlyList<LabelledImage> ReadDataset(string labelsPath, string imagesDir, double targetFalsePositiveRate, int inFlight)
    {
        if (!(targetFalsePositiveRate is >= 0 and <= 1))
        {
            throw new UsageException($"--target-fpr must lie within [0, 1] (a fraction: 0.01 is 1%); got {targetFalsePositiveRate.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (inFlight < 1)
        {
            throw new UsageException($"--in-flight must be at least 1; got {inFlight}.");
        }

        if (!File.Exists(labelsPath))
        {
            throw new UsageException($"no labels file {labelsPath} (--labels: a CSV with file,label columns).");
        }

        if (!Directory.Exists(imagesDir))
        {
            throw new UsageException($"no images folder {imagesDir} (--images: the folder the CSV's file names are relative to).");
        }

        IReadOnlyList<LabelledImage> rows;
        try
        {
            rows = LabelsCsv.Read(labelsPath);
        }
        catch (InvalidDataException ex)
        {
            throw new UsageException(ex.Message);
        }

        if (rows.Count == 0)
        {
            throw new UsageException($"{labelsPath} has a header but no rows.");
        }

        string[] missing = [.. rows.Select(r => r.File).Where(f => !File.Exists(Path.Combine(imagesDir, f)))];
        if (missing.Length > 0)
        {
            string shown = string.Join(", ", missing.Take(10));
            throw new UsageException($"{missing.Length} of the {rows.Count} files that {labelsPath} names are not in {imagesDir}: {shown}{(missing.Length > 10 ? ", …" : "")}");
        }

        return rows;
    }

    private static string Summary(EvaluationReport report, string outDir)
    {
        SetMetrics all = report.Overall;
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{report.Model} on {report.Rows} images: {report.Scored} scored ({all.Ai} ai, {all.Human} human), {report.Failed} failed (left out)\n");
        text.Append(CultureInfo.InvariantCulture, $"ROC AUC {ReportFiles.N(all.RocAuc)}, average precision {ReportFiles.N(all.AveragePrecision)}, ECE {ReportFiles.N(report.ExpectedCalibrationError)}\n");
        text.Append(CultureInfo.InvariantCulture, $"at the model's threshold {report.ModelThreshold:0.###}: accuracy {ReportFiles.N(all.Accuracy)}, FPR {ReportFiles.N(all.FalsePositiveRate)}, recall {ReportFiles.N(all.Recall)} (TP {all.TruePositives}, FP {all.FalsePositives}, TN {all.TrueNegatives}, FN {all.FalseNegatives})\n");
        if (report.OperatingPoint is { } op)
        {
            text.Append(CultureInfo.InvariantCulture, $"for FPR <= {op.TargetFalsePositiveRate:0.###%} on this set: threshold {op.Threshold:0.0000}, FPR {ReportFiles.N(op.FalsePositiveRate)}, recall {ReportFiles.N(op.Recall)}\n");
        }
        else
        {
            text.Append("operating point: n/a (no scored human image)\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"wrote {Path.Combine(outDir, ReportFiles.ReportFile)}, {ReportFiles.MetricsFile}, {ReportFiles.ScoresFile}, {EvaluationPlots.RocFile}, {EvaluationPlots.PrecisionRecallFile}, {EvaluationPlots.CalibrationFile}\n");
        return text.ToString();
    }
}
