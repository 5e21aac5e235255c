using System.Text.Json;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;

namespace ArtGrid.Training;

public sealed record TrainingSettings(
    string LabelsPath,
    string ImagesDir,
    string OutDir,
    double HoldoutFraction = 0.25,
    int Folds = 5,
    int Seed = 17,
    float? L2 = null,
    bool FinalFitOnAll = true,
    int IntraOpThreads = 0,
    IReadOnlyList<string>? Outputs = null,
    int InputSize = 224,
    double TargetFalsePositiveRate = OperatingPoint.DefaultTargetFalsePositiveRate,
    double LooseFalsePositiveRate = OperatingPoint.DefaultLooseFalsePositiveRate);

/// <summary>
/// <c>artgrid train</c>: features through the serving preprocessing, a source-grouped holdout (stratified random
/// when the CSV has no source column), L2 chosen by grouped k-fold on the training part, the head fitted on the
/// training part and measured on the holdout, then (by default) refitted on every image with the same L2 for the
/// head that ships. Over all images it also reports grouped k-fold, leave-one-source-out and, for contrast only, a
/// random stratified k-fold (which lets near-variants of one source sit on both sides and so flatters the model).
/// The operating threshold and the uncertain band are read off the grouped k-fold's out-of-fold scores of the human
/// images: scores of heads that never saw those images' sources, as the hidden sources will be. Writes model.json,
/// head.json and metrics.json.
/// </summary>
public sealed class TrainingRun(TrainingSettings settings, TextWriter log)
{
    public static readonly float[] L2Grid = [1f, 10f, 100f, 300f, 1000f, 3000f, 10_000f, 100_000f];

    /// <summary>The outputs a model trained without <c>--outputs</c> reads: ResNet-18's second stage (see docs/MODEL_CARD.md).</summary>
    public static readonly IReadOnlyList<string> DefaultOutputs = ["ReLU315_Output_0"];

    public TrainingMetrics Run(Action<int, int>? progress = null, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<LabelledImage> rows = LabelsCsv.Read(settings.LabelsPath);
        if (rows.Count == 0)
        {
            throw new InvalidDataException($"{settings.LabelsPath} lists no images.");
        }

        string name = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(settings.OutDir).TrimEnd(Path.DirectorySeparatorChar)))!;
        string version = Path.GetFileName(Path.GetFullPath(settings.OutDir).TrimEnd(Path.DirectorySeparatorChar));
        ModelConfig config = ModelTemplates.ResNet18(name, version, settings.Outputs ?? DefaultOutputs, settings.InputSize);
        Directory.CreateDirectory(settings.OutDir);
        ModelInputSpec input = ModelRepository.BuildInputSpec(settings.OutDir, config.Input);
        string backbone = ModelRepository.ResolveAsset(settings.OutDir, config.Backbone.File);

        log.WriteLine($"Extracting {string.Join(" + ", config.Backbone.OutputNames)} features of {rows.Count} images with {Path.GetFileName(backbone)} ...");
        using var session = new OnnxModelSession(backbone, config.Backbone, input, "cpu:0", settings.IntraOpThreads);
        var extractor = new FeatureExtractor(new ImagePreprocessor(Options.Create(new PreprocessingOptions())), session);
        int done = 0;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var extracted = extractor.Extract(
            rows.Select(r => Path.Combine(settings.ImagesDir, r.File)).ToArray(),
            n => progress?.Invoke(done += n, rows.Count),
            cancellationToken);

        double msPerImage = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds / rows.Count;
        log.WriteLine($"  {msPerImage:0.0} ms per image (decode, preprocessing and backbone, {Environment.ProcessorCount} cores)");
        var usable = Enumerable.Range(0, rows.Count).Where(i => extracted[i].Features is not null).ToArray();
        foreach (int i in Enumerable.Range(0, rows.Count).Where(i => extracted[i].Features is null))
        {
            log.WriteLine($"  skipped {rows[i].File}: {extracted[i].Error?.Code} {extracted[i].Error?.Message}");
        }

        float[][] x = usable.Select(i => extracted[i].Features!).ToArray();
        bool[] y = usable.Select(i => rows[i].IsAi).ToArray();
        bool grouped = usable.All(i => rows[i].Source is not null);
        string[] groups = usable.Select(i => rows[i].Source ?? rows[i].File).ToArray();
        bool[] holdout = grouped
            ? GroupSplits.HoldOutGroups(groups, y, settings.HoldoutFraction, settings.Seed)
            : GroupSplits.HoldOutStratified(y, settings.HoldoutFraction, settings.Seed);

        int[] trainIdx = Enumerable.Range(0, x.Length).Where(i => !holdout[i]).ToArray();
        int[] testIdx = Enumerable.Range(0, x.Length).Where(i => holdout[i]).ToArray();
        var trainer = new HeadTrainer(settings.Seed);

        // Choose L2 by grouped k-fold inside the training part (never looking at the holdout).
        var cv = new Dictionary<string, double>();
        float l2 = settings.L2 ?? 0f;
        if (settings.L2 is null)
        {
            int[] folds = Folds(trainIdx.Select(i => groups[i]).ToArray(), grouped);
            double best = double.NegativeInfinity;
            foreach (float candidate in L2Grid)
            {
                double auc = BinaryMetrics.AreaUnderRoc(trainIdx.Select(i => y[i]).ToArray(), OutOfFold(trainer, trainIdx.Select(i => x[i]).ToArray(), trainIdx.Select(i => y[i]).ToArray(), folds, candidate));
                cv[candidate.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Math.Round(auc, 4);
                log.WriteLine($"  l2={candidate}: grouped {settings.Folds}-fold AUC {auc:0.000}");
                if (auc > best)
                {
                    (best, l2) = (auc, candidate);
                }
            }
        }

        // Heads that never saw an image's source give its out-of-fold logit. A strong L2 shrinks logits towards 0, so
        // their probabilities say little; a sigmoid fitted to the grouped out-of-fold logits (Platt scaling, classes
        // weighted evenly as in the head itself) recalibrates every head below, and the shipped threshold is where the
        // recalibrated out-of-fold scores flag the target share of human images.
        double[] oofLogits = OutOfFold(trainer, x, y, Folds(groups, grouped), l2);
        PlattScaling calibration = PlattScaling.Fit(oofLogits, y);
        double[] oof = Array.ConvertAll(oofLogits, calibration.Probability);
        double[] humanOof = Enumerable.Range(0, y.Length).Where(i => !y[i]).Select(i => oof[i]).ToArray();
        UncertainBand band = OperatingPoint.UncertainBand(humanOof, settings.TargetFalsePositiveRate, settings.LooseFalsePositiveRate);
        config = config with { Threshold = Math.Round(band.High, 6), Uncertain = new UncertainBand(Math.Round(band.Low, 6), Math.Round(band.High, 6)) };
        log.WriteLine($"Calibration: p = sigmoid({calibration.Slope:0.###} z {calibration.Intercept:+0.###;-0.###}); threshold {config.Threshold:0.0000} flags {settings.TargetFalsePositiveRate:P0} of human images out of source; uncertain from {config.Uncertain.Low:0.0000} ({settings.LooseFalsePositiveRate:P0})");

        LinearHead head = calibration.Apply(trainer.Fit(trainIdx.Select(i => x[i]).ToArray(), trainIdx.Select(i => y[i]).ToArray(), l2));
        double[] trainP = trainIdx.Select(i => head.Probability(x[i])).ToArray();
        double[] testP = testIdx.Select(i => head.Probability(x[i])).ToArray();

        BinaryMetrics trainMetrics = BinaryMetrics.Compute(trainIdx.Select(i => y[i]).ToArray(), trainP, config.Threshold);
        BinaryMetrics holdoutMetrics = BinaryMetrics.Compute(testIdx.Select(i => y[i]).ToArray(), testP, config.Threshold);
        int uncertain = testP.Count(p => p >= config.Uncertain.Low && p < config.Uncertain.High);
        BinaryMetrics crossValidated = BinaryMetrics.Compute(y, oof, config.Threshold);
        log.WriteLine($"Grouped {settings.Folds}-fold over all {x.Length} images (l2={l2}): AUC {crossValidated.RocAuc:0.000}, FPR {crossValidated.FalsePositiveRate:0.000}, recall {crossValidated.Recall:0.000}");
        BinaryMetrics? leaveOneSourceOut = null;
        if (grouped)
        {
            string[] sources = [.. groups.Distinct()];
            int[] bySource = [.. groups.Select(g => Array.IndexOf(sources, g))];
            leaveOneSourceOut = BinaryMetrics.Compute(y, Array.ConvertAll(OutOfFold(trainer, x, y, bySource, l2), calibration.Probability), config.Threshold);
            log.WriteLine($"Leave one source out ({sources.Length} sources): AUC {leaveOneSourceOut.RocAuc:0.000}, FPR {leaveOneSourceOut.FalsePositiveRate:0.000}, recall {leaveOneSourceOut.Recall:0.000}");
        }

        BinaryMetrics randomSplit = BinaryMetrics.Compute(y, Array.ConvertAll(OutOfFold(trainer, x, y, GroupSplits.StratifiedKFold(y, settings.Folds, settings.Seed), l2), calibration.Probability), config.Threshold);
        log.WriteLine($"Random stratified {settings.Folds}-fold, for contrast (sources on both sides): AUC {randomSplit.RocAuc:0.000}");
        LinearHead shipped = settings.FinalFitOnAll ? calibration.Apply(trainer.Fit(x, y, l2)) : head;

        var metrics = new TrainingMetrics(
            Model: $"{config.Name}/{config.Version}",
            Labels: Path.GetFileName(settings.LabelsPath),
            Images: rows.Count,
            Skipped: rows.Count - usable.Length,
            Split: grouped ? "holdout by source (whole sources held out, both classes)" : "stratified random holdout (no source column)",
            HoldoutSources: grouped ? testIdx.Select(i => groups[i]).Distinct().Order(StringComparer.Ordinal).ToArray() : [],
            L2: l2,
            L2GroupedCvAuc: cv,
            Train: trainMetrics,
            Holdout: holdoutMetrics,
            GroupedCrossValidation: crossValidated,
            LeaveOneSourceOut: leaveOneSourceOut,
            RandomStratifiedCrossValidation: randomSplit,
            OperatingPoint: new OperatingPointChoice(settings.TargetFalsePositiveRate, settings.LooseFalsePositiveRate, config.Threshold, config.Uncertain, $"out-of-fold scores of the {humanOof.Length} human images, grouped {settings.Folds}-fold"),
            MillisecondsPerImage: Math.Round(msPerImage, 1),
            ShippedHeadFittedOn: settings.FinalFitOnAll ? $"all {x.Length} images" : $"the {trainIdx.Length} training images (holdout excluded)",
            HoldoutUncertainFraction: testIdx.Length == 0 ? 0 : (double)uncertain / testIdx.Length,
            HoldoutBySource: grouped
                ? Enumerable.Range(0, testIdx.Length).GroupBy(k => groups[testIdx[k]]).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(
                    g => g.Key,
                    g => new SourceMetrics(g.Count(), g.Count(k => y[testIdx[k]]), g.Count(k => (testP[k] >= config.Threshold) == y[testIdx[k]]) / (double)g.Count()))
                : new Dictionary<string, SourceMetrics>(),
            Calibration: calibration,
            Seed: settings.Seed);

        File.WriteAllText(Path.Combine(settings.OutDir, ModelRepository.ConfigFile), JsonSerializer.Serialize(config, ModelConfig.JsonOptions));
        shipped.Save(Path.Combine(settings.OutDir, config.Head));
        File.WriteAllText(Path.Combine(settings.OutDir, "metrics.json"), JsonSerializer.Serialize(metrics, ModelConfig.JsonOptions));
        return metrics;
    }

    private int[] Folds(IReadOnlyList<string> groups, bool grouped) =>
        grouped ? GroupSplits.GroupKFold(groups, settings.Folds) : groups.Select((_, k) => k % settings.Folds).ToArray();

    /// <summary>Each image's logit from a head that never saw its fold.</summary>
    private static double[] OutOfFold(HeadTrainer trainer, float[][] x, bool[] y, int[] folds, float l2)
    {
        var z = new double[x.Length];
        foreach (int fold in folds.Distinct())
        {
            int[] fit = Enumerable.Range(0, x.Length).Where(i => folds[i] != fold).ToArray();
            int[] score = Enumerable.Range(0, x.Length).Where(i => folds[i] == fold).ToArray();
            if (fit.Select(i => y[i]).Distinct().Count() < 2)
            {
                continue;
            }

            LinearHead head = trainer.Fit(fit.Select(i => x[i]).ToArray(), fit.Select(i => y[i]).ToArray(), l2);
            foreach (int i in score)
            {
                z[i] = head.Logit(x[i]);
            }
        }

        return z;
    }
}

public sealed record SourceMetrics(int Images, int Ai, double Accuracy);

/// <summary>How the shipped threshold and uncertain band were chosen.</summary>
public sealed record OperatingPointChoice(double TargetFalsePositiveRate, double LooseFalsePositiveRate, double Threshold, UncertainBand Uncertain, string From);

public sealed record TrainingMetrics(
    string Model,
    string Labels,
    int Images,
    int Skipped,
    string Split,
    IReadOnlyList<string> HoldoutSources,
    float L2,
    IReadOnlyDictionary<string, double> L2GroupedCvAuc,
    BinaryMetrics Train,
    BinaryMetrics Holdout,
    BinaryMetrics GroupedCrossValidation,
    BinaryMetrics? LeaveOneSourceOut,
    BinaryMetrics RandomStratifiedCrossValidation,
    OperatingPointChoice OperatingPoint,
    double MillisecondsPerImage,
    string ShippedHeadFittedOn,
    double HoldoutUncertainFraction,
    IReadOnlyDictionary<string, SourceMetrics> HoldoutBySource,
    PlattScaling Calibration,
    int Seed);
