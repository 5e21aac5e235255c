using System.Text.Json;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using ArtGrid.Training;

namespace ArtGrid.Tests;

public sealed class TrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TrainWritesALoadableModelWithMetricsAndScoreUsesIt()
    {
        // The samples, labelled by their folder, each its own "source" so that the holdout is by source.
        string csv = Path.Combine(_dir, "labels.csv");
        var lines = new List<string> { "file,label,source,kind" };
        foreach (string file in TestAssets.SampleImages)
        {
            string label = Path.GetFileName(Path.GetDirectoryName(file))!;
            lines.Add($"{Path.GetRelativePath(TestAssets.SamplesDir, file)},{label},\"src:{Path.GetFileNameWithoutExtension(file)}, sample\",x");
        }

        File.WriteAllLines(csv, lines);
        string output = Path.Combine(_dir, "models", "tiny", "3");

        (int exit, _, string stderr) = await CliTests.RunAsync(
            "train", "--labels", csv, "--images", TestAssets.SamplesDir, "--out", output, "--holdout", "0.3", "--folds", "2", "--robustness");

        Assert.True(exit == 0, stderr);
        LoadedModel model = ModelRepository.LoadDirectory(output);
        Assert.Equal("tiny/3", model.Id);
        Assert.Equal(128, model.Head!.FeatureCount); // ResNet-18's second stage, the default recipe
        Assert.Equal("ReLU315_Output_0", model.Config.Backbone.FeatureMap);
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));

        // The shipped threshold is the operating point read off the out-of-fold scores, and tops the uncertain band.
        JsonElement operatingPoint = metrics.RootElement.GetProperty("operatingPoint");
        Assert.Equal(operatingPoint.GetProperty("threshold").GetDouble(), model.Config.Threshold, 6);
        Assert.Equal(model.Config.Threshold, model.Config.Uncertain.High, 6);
        Assert.True(model.Config.Uncertain.Low <= model.Config.Uncertain.High);
        Assert.Equal(0.01, operatingPoint.GetProperty("targetFalsePositiveRate").GetDouble());
        foreach (string validation in new[] { "groupedCrossValidation", "leaveOneSourceOut", "randomStratifiedCrossValidation" })
        {
            Assert.Equal(8, metrics.RootElement.GetProperty(validation).GetProperty("count").GetInt32());
        }

        // Out of group: every human source's rate at the shipped threshold, and each image's scores in scores.csv.
        JsonElement outOfGroup = metrics.RootElement.GetProperty("outOfGroup");
        Assert.Equal(8, outOfGroup.GetProperty("groups").GetInt32());
        foreach (string transform in new[] { "jpeg75", "half" })
        {
            Assert.InRange(outOfGroup.GetProperty("robustnessAuc").GetProperty(transform).GetDouble(), 0.0, 1.0);
        }

        JsonElement shipped = outOfGroup.GetProperty("shippedThreshold");
        Assert.Equal(4, shipped.GetProperty("byGroup").GetArrayLength()); // the four human samples, each its own source
        Assert.True(shipped.GetProperty("threshold").GetDouble() <= model.Config.Threshold); // written rounded up
        string[] scores = File.ReadAllLines(Path.Combine(output, OutOfGroupScores.FileName));
        Assert.Equal("file,label,source,group,generator,kind,grouped_kfold,leave_one_group_out", scores[0]);
        Assert.Equal(9, scores.Length);
        Assert.All(scores.Skip(1), line => Assert.InRange(double.Parse(line.Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture), 0.0, 1.0));

        JsonElement holdout = metrics.RootElement.GetProperty("holdout");
        Assert.True(holdout.GetProperty("count").GetInt32() >= 2);
        Assert.InRange(holdout.GetProperty("accuracy").GetDouble(), 0.0, 1.0);
        Assert.Equal(8, metrics.RootElement.GetProperty("images").GetInt32());
        Assert.NotEmpty(metrics.RootElement.GetProperty("holdoutSources").EnumerateArray());

        (exit, string stdout, stderr) = await CliTests.RunAsync("score", "--models", Path.Combine(_dir, "models"), "--model", "tiny", TestAssets.Photo);
        Assert.True(exit == 0, stderr);
        Assert.Contains("\"model\":\"tiny/3\"", stdout);
    }

    [Fact]
    public async Task TrainReadsTheOutputsAndInputSizeItIsGiven()
    {
        string csv = Path.Combine(_dir, "labels.csv");
        File.WriteAllLines(csv, ["file,label", .. TestAssets.SampleImages.Select(f => $"{Path.GetRelativePath(TestAssets.SamplesDir, f)},{Path.GetFileName(Path.GetDirectoryName(f))}")]);
        string output = Path.Combine(_dir, "models", "wide", "1");

        (int exit, _, string stderr) = await CliTests.RunAsync(
            "train", "--labels", csv, "--images", TestAssets.SamplesDir, "--out", output, "--folds", "2", "--l2", "10",
            "--outputs", "ReLU283_Output_0", "ReLU393_Output_0", "--input-size", "256");

        Assert.True(exit == 0, stderr);
        LoadedModel model = ModelRepository.LoadDirectory(output);
        Assert.Equal(64 + 512, model.Head!.FeatureCount);
        Assert.Equal(["ReLU283_Output_0", "ReLU393_Output_0"], model.Config.Backbone.OutputNames);
        // The first map is the activation maps' grid; the last stage's 8x8 cells each cover 8x8 of its 64x64.
        Assert.Equal("ReLU283_Output_0", model.Config.Backbone.FeatureMap);
        Assert.Equal((256, 256), (model.Input.Width, model.Input.Height));
        Assert.Null(model.Input.MeanImage); // the package's mean image is 224x224: channel means at any other size

        (exit, _, stderr) = await CliTests.RunAsync(
            "train", "--labels", csv, "--images", TestAssets.SamplesDir, "--out", Path.Combine(_dir, "models", "bad", "1"), "--outputs", "NoSuchValue");
        Assert.Equal(3, exit); // set-up error: the graph has no such value
        Assert.Contains("NoSuchValue", stderr);
    }

    [Fact]
    public void PlattScalingIsTheWeightedMaximumLikelihoodFitAndFoldsIntoTheHead()
    {
        var rng = new Random(5);
        double[] logits = Enumerable.Range(0, 400).Select(_ => rng.NextDouble() * 0.4 - 0.2).ToArray();
        bool[] isAi = logits.Select(z => rng.NextDouble() < LinearHead.Sigmoid(12 * z - 0.5)).ToArray();

        PlattScaling fit = PlattScaling.Fit(logits, isAi);

        // At the maximum the gradient of the class-weighted log-loss vanishes in both parameters (up to the slope's
        // tiny ridge term, 1e-6 * slope).
        double positives = isAi.Count(a => a), negatives = isAi.Length - positives;
        double gradientSlope = 0, gradientIntercept = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double weight = isAi[i] ? isAi.Length / (2 * positives) : isAi.Length / (2 * negatives);
            double residual = weight * (fit.Probability(logits[i]) - (isAi[i] ? 1 : 0));
            gradientSlope += residual * logits[i];
            gradientIntercept += residual;
        }

        Assert.InRange(gradientSlope + (1e-6 * fit.Slope), -1e-6, 1e-6);
        Assert.InRange(gradientIntercept, -1e-6, 1e-6);
        Assert.InRange(fit.Slope, 6, 20); // shrunken logits are stretched back out

        // Logits 300 times too large (a weakly regularised head) start Newton far out on the flat tails of the sigmoid:
        // the fit must still land on the same calibration, scaled.
        PlattScaling stretched = PlattScaling.Fit([.. logits.Select(z => z * 300)], isAi);
        Assert.Equal(fit.Slope / 300, stretched.Slope, 4);
        Assert.Equal(fit.Intercept, stretched.Intercept, 3);

        var head = new LinearHead([0.5f, -1f], [2f, 0.5f], [0.3f, -0.7f], 0.1f);
        LinearHead folded = fit.Apply(head);
        float[] features = [1.5f, -0.25f];
        Assert.Equal(fit.Probability(head.Logit(features)), folded.Probability(features), 5);
    }

    [Fact]
    public void LabelsCsvReadsQuotedFieldsAndRefusesUnknownLabels()
    {
        string csv = Path.Combine(_dir, "l.csv");
        File.WriteAllText(csv, "file,label,source\na.jpg,ai,\"x, \"\"y\"\"\"\nb.jpg,Human,z\n");
        IReadOnlyList<LabelledImage> rows = LabelsCsv.Read(csv);
        Assert.Equal(2, rows.Count);
        Assert.True(rows[0].IsAi);
        Assert.Equal("x, \"y\"", rows[0].Source);
        Assert.False(rows[1].IsAi);

        File.WriteAllText(csv, "file,label\na.jpg,robot\n");
        Assert.Contains("robot", Assert.Throws<InvalidDataException>(() => LabelsCsv.Read(csv)).Message);
    }

    [Fact]
    public void RocAucMatchesAHandComputedExample()
    {
        // Positives 0.9, 0.4; negatives 0.5, 0.1: of the 4 pairs, 3 are ordered correctly.
        Assert.Equal(0.75, BinaryMetrics.AreaUnderRoc([true, true, false, false], [0.9, 0.4, 0.5, 0.1]), 10);
        Assert.Equal(0.5, BinaryMetrics.AreaUnderRoc([true, false], [0.3, 0.3]), 10);
        BinaryMetrics m = BinaryMetrics.Compute([true, true, false, false], [0.9, 0.4, 0.5, 0.1], 0.5);
        Assert.Equal((1, 1, 1, 1), (m.TruePositives, m.FalsePositives, m.TrueNegatives, m.FalseNegatives));
        Assert.Equal(0.5, m.Accuracy);
    }

    [Fact]
    public void SplitsNeverCutASourceInTwo()
    {
        string[] groups = [.. Enumerable.Range(0, 60).Select(i => $"g{i % 12}")];
        bool[] isAi = [.. Enumerable.Range(0, 60).Select(i => i % 12 < 5)];
        bool[] holdout = GroupSplits.HoldOutGroups(groups, isAi, 0.25, seed: 3);
        foreach (IGrouping<string, int> g in Enumerable.Range(0, 60).GroupBy(i => groups[i]))
        {
            Assert.Single(g.Select(i => holdout[i]).Distinct());
        }

        Assert.Contains(Enumerable.Range(0, 60), i => holdout[i] && isAi[i]);
        Assert.Contains(Enumerable.Range(0, 60), i => holdout[i] && !isAi[i]);
        Assert.Contains(Enumerable.Range(0, 60), i => !holdout[i]);

        int[] folds = GroupSplits.GroupKFold(groups, 5);
        Assert.All(Enumerable.Range(0, 60).GroupBy(i => groups[i]), g => Assert.Single(g.Select(i => folds[i]).Distinct()));
        Assert.Equal(5, folds.Distinct().Count());
    }
}
