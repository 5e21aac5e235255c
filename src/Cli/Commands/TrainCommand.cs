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
        var headFromTrainOnly = new Option<bool>("--head-from-train-only") { Description = "Ship the head fitted without the holdout (default: refit on every image once measured)." };

        var command = new Command("train", "Fit the classification head on a labelled image folder.") { labels, images, output, holdout, folds, seed, l2, outputs, inputSize, targetFpr, headFromTrainOnly };
        command.SetAction((result, cancellationToken) =>
        {
            var settings = new TrainingSettings(
                result.GetValue(labels)!, result.GetValue(images)!, result.GetValue(output)!,
                result.GetValue(holdout), result.GetValue(folds), result.GetValue(seed), result.GetValue(l2), !result.GetValue(headFromTrainOnly))
            {
                Outputs = result.GetValue(outputs) is { Length: > 0 } named ? named : null,
                InputSize = result.GetValue(inputSize),
                TargetFalsePositiveRate = result.GetValue(targetFpr),
            };
            if (!File.Exists(settings.LabelsPath) || !Directory.Exists(settings.ImagesDir))
            {
                Console.Error.WriteLine($"artgrid train: {(File.Exists(settings.LabelsPath) ? $"no folder {settings.ImagesDir}" : $"no file {settings.LabelsPath}")}");
                return Task.FromResult(ExitCodes.Usage);
            }

            if (settings.HoldoutFraction is <= 0 or >= 1 || settings.Folds < 2 || settings.InputSize is < 32 or > 4096
                || settings.TargetFalsePositiveRate is < 0 or >= OperatingPoint.DefaultLooseFalsePositiveRate)
            {
                Console.Error.WriteLine($"artgrid train: --holdout must lie between 0 and 1, --folds be at least 2, --input-size lie in 32..4096 and --target-fpr in [0, {OperatingPoint.DefaultLooseFalsePositiveRate}).");
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
