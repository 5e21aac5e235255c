using System.CommandLine;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using ArtGrid.Training;

namespace ArtGrid.Cli.Commands;

/// <summary><c>artgrid train --labels CSV --images DIR --out models/NAME/VERSION</c>.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var labels = new Option<string>("--labels") { Description = "CSV with file,label (ai|human) and optional source, generator, kind columns.", Required = true };
        var images = new Option<string>("--images") { Description = "Folder the CSV's file names are relative to.", Required = true };
        var output = new Option<string>("--out") { Description = "Model version folder to write, e.g. models/artgrid-resnet18/2.", Required = true };
        var holdout = new Option<double>("--holdout") { Description = "Fraction of each class held out (by whole sources when the CSV has a source column).", DefaultValueFactory = _ => 0.25 };
        var folds = new Option<int>("--folds") { Description = "Grouped folds used to choose the L2 strength.", DefaultValueFactory = _ => 5 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 17 };
        var l2 = new Option<float?>("--l2") { Description = "Fixed L2 strength (default: chosen by grouped cross-validation)." };
        var outputs = new Option<string[]>("--outputs") { Description = "ResNet-18 values whose spatial average is the feature vector, e.g. ReLU315_Output_0 (default) or ReLU393_Output_0; several are concatenated.", AllowMultipleArgumentsPerToken = true };
        var inputSize = new Option<int>("--input-size") { Description = "Square input size the images are resized to (224 uses the package's mean image).", DefaultValueFactory = _ => 224 };
        var targetFpr = new Option<double>("--target-fpr") { Description = "Share of human images the shipped threshold may flag, measured out of source.", DefaultValueFactory = _ => OperatingPoint.DefaultTargetFalsePositiveRate };
        var fit = new Option<string>("--fit") { Description = "stretch: the whole image resized to the input size; crop: the middle window at the image's own scale.", DefaultValueFactory = _ => "stretch" };
        fit.AcceptOnlyFromAmong("stretch", "crop");
        var maxSide = new Option<int>("--max-side") { Description = "With --fit crop: shrink images whose longer side exceeds this first (0: never).", DefaultValueFactory = _ => 0 };
        var groupBy = new Option<string>("--group-by") { Description = "What validation keeps whole: source, or owner (a GitHub owner's repositories together).", DefaultValueFactory = _ => "source" };
        groupBy.AcceptOnlyFromAmong("source", "owner");
        var sameGroup = new Option<string[]>("--same-group") { Description = "Comma-separated sources (or owners) that validation treats as one group; repeatable." };
        var groupWeighting = new Option<bool>("--group-weighting") { Description = "Weigh each image by 1/sqrt(its group's size), so that a few large sources do not set the head." };
        var confidence = new Option<double>("--confidence") { Description = "Share of resampled source mixes on which the threshold must meet --target-fpr.", DefaultValueFactory = _ => GroupedOperatingPoint.DefaultConfidence };
        var robustness = new Option<bool>("--robustness") { Description = "Also measure out-of-group AUC after JPEG quality 75 and after halving the images (two more feature passes)." };
        var noAttribution = new Option<bool>("--no-attribution") { Description = "Do not fit the generator-attribution head (fitted by default when the CSV has a generator column)." };
        var headFromTrainOnly = new Option<bool>("--head-from-train-only") { Description = "Ship the head fitted without the holdout (default: refit on every image once measured)." };

        var command = new Command("train", "Fit the classification head on a labelled image folder.") { labels, images, output, holdout, folds, seed, l2, outputs, inputSize, fit, maxSide, groupBy, sameGroup, groupWeighting, targetFpr, confidence, robustness, noAttribution, headFromTrainOnly };
        command.SetAction((result, cancellationToken) =>
        {
            var settings = new TrainingSettings(
                result.GetValue(labels)!, result.GetValue(images)!, result.GetValue(output)!,
                result.GetValue(holdout), result.GetValue(folds), result.GetValue(seed), result.GetValue(l2), !result.GetValue(headFromTrainOnly))
            {
                Outputs = result.GetValue(outputs) is { Length: > 0 } named ? named : null,
                InputSize = result.GetValue(inputSize),
                Fit = result.GetValue(fit) == "crop" ? ImageFit.Crop : ImageFit.Stretch,
                MaxSide = result.GetValue(maxSide),
                Groups = new SourceGroups(result.GetValue(groupBy) == "owner", SourceGroups.ParseJoined(result.GetValue(sameGroup) ?? [])),
                TargetFalsePositiveRate = result.GetValue(targetFpr),
                GroupWeighting = result.GetValue(groupWeighting),
                Confidence = result.GetValue(confidence),
                Robustness = result.GetValue(robustness),
                Attribution = !result.GetValue(noAttribution),
            };
            if (!File.Exists(settings.LabelsPath) || !Directory.Exists(settings.ImagesDir))
            {
                Console.Error.WriteLine($"artgrid train: {(File.Exists(settings.LabelsPath) ? $"no folder {settings.ImagesDir}" : $"no file {settings.LabelsPath}")}");
                return Task.FromResult(ExitCodes.Usage);
            }

            if (settings.HoldoutFraction is <= 0 or >= 1 || settings.Folds < 2 || settings.InputSize is < 32 or > 4096
                || (settings.MaxSide != 0 && settings.MaxSide < settings.InputSize) || settings.Confidence is < 0 or > 1 || settings.TargetFalsePositiveRate is < 0 or >= OperatingPoint.DefaultLooseFalsePositiveRate)
            {
                Console.Error.WriteLine($"artgrid train: --holdout must lie between 0 and 1, --folds be at least 2, --input-size lie in 32..4096, --max-side be 0 or at least --input-size, --confidence lie in [0, 1], and --target-fpr in [0, {OperatingPoint.DefaultLooseFalsePositiveRate}).");
                return Task.FromResult(ExitCodes.Usage);
            }

            try
            {
                int lastShown = -1;
                TrainingMetrics metrics = new TrainingRun(settings, Console.Error).Run((done, total) =>
                {
                    int percent = 100 * done / total;
                    if (percent / 10 != lastShown / 10)
                    {
                        lastShown = percent;
                        Console.Error.WriteLine($"  features: {done}/{total}");
                    }
                }, cancellationToken);
                Console.Error.WriteLine(
                    $"Holdout ({metrics.Holdout.Count} images, {metrics.HoldoutSources.Count} unseen sources): accuracy {metrics.Holdout.Accuracy:0.000}, ROC AUC {metrics.Holdout.RocAuc:0.000}, " +
                    $"FPR {metrics.Holdout.FalsePositiveRate:0.000}, recall {metrics.Holdout.Recall:0.000} at threshold {metrics.OperatingPoint.Threshold:0.000}; wrote {settings.OutDir}");
                return Task.FromResult(ExitCodes.Ok);
            }
            catch (Exception ex) when (ex is InvalidDataException or ModelNotFoundException or InvalidOperationException)
            {
                Console.Error.WriteLine($"artgrid train: {ex.Message}");
                return Task.FromResult(ExitCodes.Setup);
            }
        });
        return command;
    }
}
