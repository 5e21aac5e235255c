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
    double LooseFalsePositiveRate = OperatingPoint.DefaultLooseFalsePositiveRate)
{
    /// <summary>How the images are framed: see <see cref="ImageFit"/>.</summary>
    public ImageFit Fit { get; init; } = ImageFit.Stretch;

    /// <summary>With <see cref="ImageFit.Crop"/>: longer sides above this are shrunk to it first (0: never).</summary>
    public int MaxSide { get; init; }

    /// <summary>What validation keeps together: sources by default.</summary>
    public SourceGroups Groups { get; init; } = SourceGroups.Sources;

    /// <summary>The share of resampled source mixes on which the shipped threshold must meet its target (see <see cref="GroupedOperatingPoint"/>).</summary>
    public double Confidence { get; init; } = GroupedOperatingPoint.DefaultConfidence;

    /// <summary>Also measure out-of-group AUC after JPEG quality 75 and after halving the images (two more feature passes).</summary>
    public bool Robustness { get; init; }

    /// <summary>Weigh each image by one over the square root of its group's size (see <see cref="HeadTrainer.Fit"/>), so that a few large sources do not set the head.</summary>
    public bool GroupWeighting { get; init; }

    /// <summary>Fit and ship a generator-attribution head when the labels name generators.</summary>
    public bool Attribution { get; init; } = true;

    /// <summary>Generator families with at least this many AI images are each held out once (leave one family out).</summary>
    public int MinFamilyImages { get; init; } = 20;
}

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
        ModelConfig config = ModelTemplates.ResNet18(name, version, settings.Outputs ?? DefaultOutputs, settings.InputSize, settings.Fit, settings.MaxSide);
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
        string[] groups = usable.Select(i => rows[i].Source is { } source ? settings.Groups.Of(source) : rows[i].File).ToArray();
        bool[] holdout = grouped
            ? GroupSplits.HoldOutGroups(groups, y, settings.HoldoutFraction, settings.Seed)
            : GroupSplits.HoldOutStratified(y, settings.HoldoutFraction, settings.Seed);

        int[] trainIdx = Enumerable.Range(0, x.Length).Where(i => !holdout[i]).ToArray();
        int[] all = [.. Enumerable.Range(0, x.Length)];
        // With group weighting, the groups of the images a head is fitted on, in order: see HeadTrainer.Fit.
        string[]? Weigh(int[] members) => settings.GroupWeighting && grouped ? [.. members.Select(i => groups[i])] : null;
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
                double auc = BinaryMetrics.AreaUnderRoc(trainIdx.Select(i => y[i]).ToArray(), OutOfFold(trainer, trainIdx.Select(i => x[i]).ToArray(), trainIdx.Select(i => y[i]).ToArray(), folds, candidate, out _, Weigh(trainIdx)));
                cv[candidate.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Math.Round(auc, 4);
                log.WriteLine($"  l2={candidate}: grouped {settings.Folds}-fold AUC {auc:0.000}");
                if (auc > best)
                {
                    (best, l2) = (auc, candidate);
                }
            }
        }

        // Out-of-group scores: each image's logit from heads that never saw its group. Leaving one group out is the closest
        // to what the shipped head faces (one more unseen source, every other one trained on); grouped k-fold is reported
        // beside it. A strong L2 shrinks logits towards 0, so their probabilities say little: a sigmoid fitted to the
        // out-of-group logits (Platt scaling, classes weighted evenly as in the head) recalibrates every head below.
        int[] kFolds = Folds(groups, grouped);
        double[] kFoldLogits = OutOfFold(trainer, x, y, kFolds, l2, out _, Weigh(all));
        string[] groupNames = [.. groups.Distinct(StringComparer.Ordinal)];
        int[] byGroup = [.. groups.Select(g => Array.IndexOf(groupNames, g))];
        Dictionary<int, LinearHead> groupHeads = [];
        double[] outOfGroupLogits = grouped ? OutOfFold(trainer, x, y, byGroup, l2, out groupHeads, Weigh(all)) : kFoldLogits;
        PlattScaling calibration = PlattScaling.Fit(outOfGroupLogits, y);
        double[] oof = Array.ConvertAll(kFoldLogits, calibration.Probability);
        double[] outOfGroup = Array.ConvertAll(outOfGroupLogits, calibration.Probability);
        int[] humans = [.. Enumerable.Range(0, y.Length).Where(i => !y[i])];
        double[] humanScores = [.. humans.Select(i => outOfGroup[i])];
        string[] humanGroups = [.. humans.Select(i => groups[i])];

        // The threshold must keep its promise on sources it has not seen: chosen for a bad plausible draw of human
        // sources (a group bootstrap), not for the average one (see GroupedOperatingPoint).
        GroupedThreshold shipped = GroupedOperatingPoint.Choose(humanScores, humanGroups, settings.TargetFalsePositiveRate, settings.Confidence, settings.Seed);
        GroupedThreshold loose = GroupedOperatingPoint.Choose(humanScores, humanGroups, settings.LooseFalsePositiveRate, settings.Confidence, settings.Seed, maxGroupRate: 1);
        // Written with 6 decimals, rounded up: the threshold as shipped flags no image more than the one measured.
        double high = RoundUp(shipped.Threshold);
        config = config with { Threshold = high, Uncertain = new UncertainBand(Math.Min(RoundUp(loose.Threshold), high), high) };
        log.WriteLine($"Calibration: p = sigmoid({calibration.Slope:0.###} z {calibration.Intercept:+0.###;-0.###}); threshold {config.Threshold:0.0000} flags {settings.TargetFalsePositiveRate:P1} of human images in {settings.Confidence:P0} of resampled source mixes (pooled out of group: {shipped.PooledRate:P2}, 5-95% over mixes {shipped.RateLow:P2}-{shipped.RateHigh:P2}); uncertain from {config.Uncertain.Low:0.0000}");

        LinearHead head = calibration.Apply(trainer.Fit(trainIdx.Select(i => x[i]).ToArray(), trainIdx.Select(i => y[i]).ToArray(), l2, Weigh(trainIdx)));
        double[] trainP = trainIdx.Select(i => head.Probability(x[i])).ToArray();
        double[] testP = testIdx.Select(i => head.Probability(x[i])).ToArray();

        BinaryMetrics trainMetrics = BinaryMetrics.Compute(trainIdx.Select(i => y[i]).ToArray(), trainP, config.Threshold);
        BinaryMetrics holdoutMetrics = BinaryMetrics.Compute(testIdx.Select(i => y[i]).ToArray(), testP, config.Threshold);
        int uncertain = testP.Count(p => p >= config.Uncertain.Low && p < config.Uncertain.High);
        BinaryMetrics crossValidated = BinaryMetrics.Compute(y, oof, config.Threshold);
        log.WriteLine($"Grouped {settings.Folds}-fold over all {x.Length} images (l2={l2}): AUC {crossValidated.RocAuc:0.000}, FPR {crossValidated.FalsePositiveRate:0.000}, recall {crossValidated.Recall:0.000}");
        BinaryMetrics? leaveOneGroupOut = null;
        OutOfGroupMetrics? outOfGroupMetrics = null;
        if (grouped)
        {
            leaveOneGroupOut = BinaryMetrics.Compute(y, outOfGroup, config.Threshold);
            double atOnePercent = OperatingPoint.Threshold(humanScores, 0.01);
            double recallAtOnePercent = Enumerable.Range(0, y.Length).Count(i => y[i] && outOfGroup[i] >= atOnePercent) / (double)y.Count(a => a);
            string[] generators = [.. usable.Select(i => rows[i].Columns.GetValueOrDefault("generator") ?? "")];
            IReadOnlyDictionary<string, FamilyHoldOut> familyHoldOuts = FamilyHoldOuts(
                x, y, groups, generators, members => calibration.Apply(trainer.Fit([.. members.Select(i => x[i])], [.. members.Select(i => y[i])], l2, Weigh(members))),
                humanScores, OperatingPoint.Threshold(humanScores, settings.TargetFalsePositiveRate));
            Dictionary<string, double> robustness = [];
            foreach ((string transform, float[]?[] transformed) in Transformed(rows, usable, extractor, progress, cancellationToken))
            {
                int[] scored = [.. Enumerable.Range(0, x.Length).Where(i => transformed[i] is not null && groupHeads.ContainsKey(byGroup[i]))];
                double auc = BinaryMetrics.AreaUnderRoc([.. scored.Select(i => y[i])], [.. scored.Select(i => groupHeads[byGroup[i]].Logit(transformed[i]!))]);
                robustness[transform] = Math.Round(auc, 4);
                log.WriteLine($"  after {transform}: leave-one-group-out AUC {auc:0.000}");
            }

            outOfGroupMetrics = new OutOfGroupMetrics(
                groupNames.Length,
                Math.Round(leaveOneGroupOut.RocAuc, 4),
                Math.Round(recallAtOnePercent, 4),
                Math.Round(leaveOneGroupOut.Recall, 4),
                shipped,
                familyHoldOuts,
                familyHoldOuts.Count == 0 ? double.NaN : Math.Round(familyHoldOuts.Values.Average(f => f.RocAuc), 4),
                robustness);
            log.WriteLine($"Leave one group out ({groupNames.Length} groups): AUC {leaveOneGroupOut.RocAuc:0.000}, recall {recallAtOnePercent:0.000} at 1% FPR; at the shipped threshold FPR {leaveOneGroupOut.FalsePositiveRate:0.000} (worst human group of 30+: {shipped.WorstRate(30):P1}), recall {leaveOneGroupOut.Recall:0.000}");
            foreach ((string family, FamilyHoldOut holdOut) in familyHoldOuts)
            {
                log.WriteLine($"  family {family} ({holdOut.Images} images) held out with its {holdOut.GroupsHeldOut} group(s): AUC {holdOut.RocAuc:0.000}, recall at the threshold {holdOut.Recall:0.000}");
            }
        }

        BinaryMetrics randomSplit = BinaryMetrics.Compute(y, Array.ConvertAll(OutOfFold(trainer, x, y, GroupSplits.StratifiedKFold(y, settings.Folds, settings.Seed), l2, out _, Weigh(all)), calibration.Probability), config.Threshold);
        log.WriteLine($"Random stratified {settings.Folds}-fold, for contrast (sources on both sides): AUC {randomSplit.RocAuc:0.000}");
        LinearHead shippedHead = settings.FinalFitOnAll ? calibration.Apply(trainer.Fit(x, y, l2, Weigh(all))) : head;

        AttributionMetrics? attribution = null;
        int[] aiRows = [.. Enumerable.Range(0, x.Length).Where(i => y[i] && rows[usable[i]].Columns.GetValueOrDefault("generator") is { Length: > 0 })];
        string[] families = AttributionTrainer.Families([.. aiRows.Select(i => rows[usable[i]].Columns["generator"])], [.. aiRows.Select(i => groups[i])]);
        if (settings.Attribution && grouped && families.Length >= 2)
        {
            var attributor = new AttributionTrainer(settings.Seed);
            string[] family = [.. aiRows.Select(i => AttributionTrainer.FamilyOf(rows[usable[i]].Columns["generator"], families))];
            float[][] aiFeatures = [.. aiRows.Select(i => x[i])];
            attribution = attributor.Measure(aiFeatures, family, [.. aiRows.Select(i => groups[i])], families);
            // Shipped only where it names the family of unseen sources better than always naming the largest family would.
            bool ships = attribution.OutOfGroupAccuracy > attribution.MajorityBaseline;
            log.WriteLine($"Attribution over {families.Length} families ({string.Join(", ", families)}): leave-one-group-out accuracy {attribution.OutOfGroupAccuracy:0.000} (the largest family alone: {attribution.MajorityBaseline:0.000}); {(ships ? "shipped" : "not shipped")}");
            if (ships)
            {
                attributor.Fit(aiFeatures, family, families).Save(Path.Combine(settings.OutDir, AttributionFile));
                config = config with { Attribution = AttributionFile };
            }
        }

        var metrics = new TrainingMetrics(
            Model: $"{config.Name}/{config.Version}",
            Labels: Path.GetFileName(settings.LabelsPath),
            Images: rows.Count,
            Skipped: rows.Count - usable.Length,
            Split: grouped ? "holdout by group (whole groups held out, both classes)" : "stratified random holdout (no source column)",
            HoldoutSources: grouped ? testIdx.Select(i => groups[i]).Distinct().Order(StringComparer.Ordinal).ToArray() : [],
            L2: l2,
            L2GroupedCvAuc: cv,
            Train: trainMetrics,
            Holdout: holdoutMetrics,
            GroupedCrossValidation: crossValidated,
            LeaveOneSourceOut: leaveOneGroupOut,
            RandomStratifiedCrossValidation: randomSplit,
            OperatingPoint: new OperatingPointChoice(settings.TargetFalsePositiveRate, settings.LooseFalsePositiveRate, config.Threshold, config.Uncertain,
                grouped
                    ? $"leave-one-group-out scores of the {humanScores.Length} human images in {shipped.HumanGroups} groups; the {settings.Confidence:0.##} quantile over {GroupedOperatingPoint.Resamples} resamples of the groups"
                    : $"out-of-fold scores of the {humanScores.Length} human images, {settings.Folds}-fold"),
            MillisecondsPerImage: Math.Round(msPerImage, 1),
            ShippedHeadFittedOn: settings.FinalFitOnAll ? $"all {x.Length} images" : $"the {trainIdx.Length} training images (holdout excluded)",
            HoldoutUncertainFraction: testIdx.Length == 0 ? 0 : (double)uncertain / testIdx.Length,
            HoldoutBySource: grouped
                ? Enumerable.Range(0, testIdx.Length).GroupBy(k => groups[testIdx[k]]).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(
                    g => g.Key,
                    g => new SourceMetrics(g.Count(), g.Count(k => y[testIdx[k]]), g.Count(k => (testP[k] >= config.Threshold) == y[testIdx[k]]) / (double)g.Count()))
                : new Dictionary<string, SourceMetrics>(),
            Calibration: calibration,
            Seed: settings.Seed)
        {
            OutOfGroup = outOfGroupMetrics,
            Attribution = attribution,
            Groups = grouped ? settings.Groups : null,
        };

        OutOfGroupScores.Write(
            Path.Combine(settings.OutDir, OutOfGroupScores.FileName),
            [.. usable.Select((i, k) => new OutOfGroupScore(rows[i], groups[k], oof[k], grouped ? outOfGroup[k] : null))]);
        File.WriteAllText(Path.Combine(settings.OutDir, ModelRepository.ConfigFile), JsonSerializer.Serialize(config, ModelConfig.JsonOptions));
        shippedHead.Save(Path.Combine(settings.OutDir, config.Head));
        File.WriteAllText(Path.Combine(settings.OutDir, "metrics.json"), JsonSerializer.Serialize(metrics, MetricsJson));
        return metrics;
    }

    // A measurement that could not be taken (an AUC without both classes) is NaN, written as "NaN" rather than failing the run.
    private static readonly JsonSerializerOptions MetricsJson = new(ModelConfig.JsonOptions) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The file the attribution head is written to beside head.json.</summary>
    public const string AttributionFile = "attribution.json";

    /// <summary>
    /// Leave one generator family out: for each family with enough AI images, a head fitted without every group that holds
    /// any of them scores them; the human images keep their leave-one-group-out scores. The AUC says how well the model
    /// ranks a family it has never seen above unseen human sources; the recall is at <paramref name="threshold"/>.
    /// </summary>
    /// <param name="fit">The calibrated head fitted on the images at these indexes, as every other head of the run is.</param>
    private Dictionary<string, FamilyHoldOut> FamilyHoldOuts(
        float[][] x, bool[] y, string[] groups, string[] generators, Func<int[], LinearHead> fit, double[] humanScores, double threshold)
    {
        var result = new Dictionary<string, FamilyHoldOut>(StringComparer.Ordinal);
        string[] families = [.. Enumerable.Range(0, x.Length).Where(i => y[i]).Select(i => generators[i])
            .GroupBy(g => g, StringComparer.Ordinal).Where(g => g.Count() >= settings.MinFamilyImages && g.Key is not ("" or "unknown" or "none"))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key)];
        foreach (string family in families)
        {
            int[] members = [.. Enumerable.Range(0, x.Length).Where(i => y[i] && generators[i] == family)];
            var heldGroups = members.Select(i => groups[i]).ToHashSet(StringComparer.Ordinal);
            int[] kept = [.. Enumerable.Range(0, x.Length).Where(i => !heldGroups.Contains(groups[i]))];
            if (kept.Count(i => y[i]) == 0)
            {
                continue;
            }

            LinearHead head = fit(kept);
            double[] scores = [.. members.Select(i => head.Probability(x[i]))];
            double auc = BinaryMetrics.AreaUnderRoc([.. Enumerable.Repeat(true, scores.Length), .. Enumerable.Repeat(false, humanScores.Length)], [.. scores, .. humanScores]);
            result[family] = new FamilyHoldOut(members.Length, heldGroups.Count, Math.Round(auc, 4), Math.Round(scores.Count(p => p >= threshold) / (double)scores.Length, 4));
        }

        return result;
    }

    /// <summary>Features of every usable image after each robustness transform, when asked for.</summary>
    private IEnumerable<(string Name, float[]?[] Features)> Transformed(
        IReadOnlyList<LabelledImage> rows, int[] usable, FeatureExtractor extractor, Action<int, int>? progress, CancellationToken cancellationToken)
    {
        if (!settings.Robustness)
        {
            yield break;
        }

        string[] files = [.. usable.Select(i => Path.Combine(settings.ImagesDir, rows[i].File))];
        foreach ((string name, Func<byte[], byte[]> transform) in RobustnessTransforms.Standard)
        {
            log.WriteLine($"Extracting features after {name} ...");
            int done = 0;
            var extracted = extractor.Extract(files, n => progress?.Invoke(done += n, files.Length), cancellationToken, transform);
            yield return (name, [.. extracted.Select(e => e.Features)]);
        }
    }

    private static double RoundUp(double threshold) => Math.Min(1, Math.Ceiling(threshold * 1e6) / 1e6);

    private int[] Folds(IReadOnlyList<string> groups, bool grouped) =>
        grouped ? GroupSplits.GroupKFold(groups, settings.Folds) : groups.Select((_, k) => k % settings.Folds).ToArray();

    /// <summary>Each image's logit from a head that never saw its fold; <paramref name="heads"/> holds each fold's head.</summary>
    private static double[] OutOfFold(HeadTrainer trainer, float[][] x, bool[] y, int[] folds, float l2, out Dictionary<int, LinearHead> heads, string[]? weightGroups)
    {
        var z = new double[x.Length];
        heads = [];
        foreach (int fold in folds.Distinct())
        {
            int[] fit = Enumerable.Range(0, x.Length).Where(i => folds[i] != fold).ToArray();
            int[] score = Enumerable.Range(0, x.Length).Where(i => folds[i] == fold).ToArray();
            if (fit.Select(i => y[i]).Distinct().Count() < 2)
            {
                continue;
            }

            LinearHead head = trainer.Fit(fit.Select(i => x[i]).ToArray(), fit.Select(i => y[i]).ToArray(), l2, weightGroups is null ? null : [.. fit.Select(i => weightGroups[i])]);
            heads[fold] = head;
            foreach (int i in score)
            {
                z[i] = head.Logit(x[i]);
            }
        }

        return z;
    }
}

public sealed record SourceMetrics(int Images, int Ai, double Accuracy);

/// <summary>One generator family scored by a head trained without any group that holds it; recall where the pooled out-of-group human scores give the target false-positive rate (1% by default).</summary>
public sealed record FamilyHoldOut(int Images, int GroupsHeldOut, double RocAuc, double Recall);

/// <summary>
/// Everything measured on groups the scoring head never saw: leave-one-group-out AUC, recall at a pooled 1% false-positive
/// rate, the shipped threshold's behaviour per human group, leave one family out, and AUC after each robustness transform.
/// </summary>
public sealed record OutOfGroupMetrics(
    int Groups,
    double RocAuc,
    double RecallAtOnePercentFpr,
    double RecallAtShippedThreshold,
    GroupedThreshold ShippedThreshold,
    IReadOnlyDictionary<string, FamilyHoldOut> LeaveOneFamilyOut,
    double LeaveOneFamilyOutMeanAuc,
    IReadOnlyDictionary<string, double> RobustnessAuc);

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
    int Seed)
{
    public OutOfGroupMetrics? OutOfGroup { get; init; }

    public AttributionMetrics? Attribution { get; init; }

    /// <summary>How sources were grouped for validation.</summary>
    public SourceGroups? Groups { get; init; }
}
