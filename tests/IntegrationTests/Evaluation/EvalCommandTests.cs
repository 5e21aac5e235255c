using System.Globalization;
using System.Text.Json;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using ArtGrid.Training;
using ArtGrid.Training.Evaluation;
using SkiaSharp;

namespace ArtGrid.Tests.Evaluation;

/// <summary><c>artgrid eval</c> run as a process with the shipped model on the repository's samples.</summary>
public sealed class EvalCommandTests : IDisposable
{
    private const string Baseline = "artgrid-resnet18/1";

    // The samples' classes (their folder) and sources, as samples/README.md lists them.
    private static readonly Dictionary<string, string> SampleSources = new(StringComparer.Ordinal)
    {
        ["photo-surfing-dog-sdxl.jpg"] = "github:apple/ml-stable-diffusion",
        ["photo-sdxl-turbo-onnxstream.jpg"] = "github:vitoplantamura/OnnxStream",
        ["art-pixart-alpha.jpg"] = "github:PixArt-alpha/PixArt-alpha",
        ["anime-comfyui-area-composition.jpg"] = "github:comfyanonymous/ComfyUI_examples",
        ["photo-chelsea-cat.jpg"] = "debian:python3-skimage",
        ["photo-coffee.jpg"] = "debian:python3-skimage",
        ["clipart-balloons.jpg"] = "debian:openclipart-png",
        ["anime-renpy-sylvie.jpg"] = "debian:renpy-thequestion",
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-eval-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A labels CSV for every sample image: file relative to samples/, label from its folder, source, and kind from its name.</summary>
    private string SamplesCsv()
    {
        var lines = new List<string> { "file,label,source,kind" };
        foreach (string path in TestAssets.SampleImages)
        {
            string relative = Path.GetRelativePath(TestAssets.SamplesDir, path).Replace('\\', '/');
            string name = Path.GetFileName(path);
            lines.Add($"{relative},{relative.Split('/')[0]},{SampleSources[name]},{name.Split('-')[0]}");
        }

        string csv = Path.Combine(_dir, "samples.csv");
        File.WriteAllLines(csv, lines);
        return csv;
    }

    [Fact]
    public async Task EvalOnTheSamplesWritesEveryReportFileWithCountsThatMatchTheCsv()
    {
        string csv = SamplesCsv();
        IReadOnlyList<LabelledImage> rows = LabelsCsv.Read(csv);
        string outDir = Path.Combine(_dir, "report");

        // The baseline version: on these eight images its 0.5 threshold and the 1% operating point fall on different
        // points of the curves, so both markers can be seen (the default model's calibrated threshold flags none of them).
        (int exit, string stdout, string stderr) = await CliTests.RunAsync("eval", "--labels", csv, "--images", TestAssets.SamplesDir, "--out", outDir, "--model", Baseline);

        Assert.True(exit == 0, stderr);
        Assert.Contains("ROC AUC", stdout);
        Assert.Contains("(100%)", stderr);
        foreach (string file in new[] { "report.md", "metrics.json", "scores.csv", "roc.png", "pr.png", "calibration.png" })
        {
            Assert.True(File.Exists(Path.Combine(outDir, file)), $"{file} missing; stderr: {stderr}");
        }

        // metrics.json: every CSV row counted, the model's threshold read from its model.json, groups that add up.
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        JsonElement root = metrics.RootElement;
        ModelConfig config = JsonSerializer.Deserialize<ModelConfig>(File.ReadAllText(Path.Combine(TestAssets.ModelsDir, Baseline, "model.json")), ModelConfig.JsonOptions)!;
        Assert.Equal(Baseline, root.GetProperty("model").GetString());
        Assert.Equal(config.Threshold, root.GetProperty("modelThreshold").GetDouble());
        Assert.Equal(rows.Count, root.GetProperty("rows").GetInt32());
        Assert.Equal(rows.Count, root.GetProperty("scored").GetInt32() + root.GetProperty("failed").GetInt32());
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        JsonElement overall = root.GetProperty("overall");
        Assert.Equal(rows.Count(r => r.IsAi), overall.GetProperty("ai").GetInt32());
        Assert.Equal(rows.Count(r => !r.IsAi), overall.GetProperty("human").GetInt32());
        foreach (string column in new[] { "source", "kind" })
        {
            JsonElement groups = root.GetProperty("groups").GetProperty(column);
            Assert.Equal(rows.Select(r => r.Columns[column]).Distinct().Count(), groups.GetArrayLength());
            Assert.Equal(rows.Count, groups.EnumerateArray().Sum(g => g.GetProperty("metrics").GetProperty("count").GetInt32()));
        }

        // A source with one class has no AUC; "photo" has both classes and gets one.
        JsonElement skimage = root.GetProperty("groups").GetProperty("source").EnumerateArray().Single(g => g.GetProperty("value").GetString() == "debian:python3-skimage");
        Assert.Equal(JsonValueKind.Null, skimage.GetProperty("metrics").GetProperty("rocAuc").ValueKind);
        JsonElement photo = root.GetProperty("groups").GetProperty("kind").EnumerateArray().Single(g => g.GetProperty("value").GetString() == "photo");
        Assert.InRange(photo.GetProperty("metrics").GetProperty("rocAuc").GetDouble(), 0, 1);

        // scores.csv: one row per CSV row, in CSV order; the overall AUC is that of these probabilities.
        string[] scores = File.ReadAllLines(Path.Combine(outDir, "scores.csv"));
        Assert.Equal("file,label,source,kind,probability,error", scores[0]);
        Assert.Equal(rows.Count + 1, scores.Length);
        var probability = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < rows.Count; i++)
        {
            string[] fields = LabelsCsv.ParseLine(scores[i + 1]);
            Assert.Equal(rows[i].File, fields[0]);
            Assert.Equal(rows[i].IsAi ? "ai" : "human", fields[1]);
            Assert.Equal("", fields[5]);
            probability[fields[0]] = double.Parse(fields[4], CultureInfo.InvariantCulture);
            Assert.InRange(probability[fields[0]], 0, 1);
        }

        Assert.Equal(
            BinaryMetrics.AreaUnderRoc([.. rows.Select(r => r.IsAi)], [.. rows.Select(r => probability[r.File])]),
            overall.GetProperty("rocAuc").GetDouble(), 12);

        // The same pipeline as `artgrid score`: the same classifier probability for every file.
        (exit, string scoreLines, stderr) = await CliTests.RunAsync("score", "--model", Baseline, TestAssets.SamplesDir);
        Assert.True(exit == 0, stderr);
        foreach (string line in scoreLines.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            string file = Path.GetRelativePath(TestAssets.SamplesDir, doc.RootElement.GetProperty("path").GetString()!).Replace('\\', '/');
            Assert.Equal(doc.RootElement.GetProperty("aiProbability").GetDouble(), probability[file], tolerance: 1e-6); // score rounds to 6 decimals
        }

        string report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("## By source", report);
        Assert.Contains("## By kind", report);
        Assert.All(SampleSources.Values.Distinct(), source => Assert.Contains($"| {source} |", report));

        foreach (string plot in new[] { "roc.png", "pr.png", "calibration.png" })
        {
            PlotAssertions.AssertPlot(Path.Combine(outDir, plot));
        }

        // The model's threshold and the operating point are marked on the ROC and precision-recall curves.
        foreach (string plot in new[] { "roc.png", "pr.png" })
        {
            using SKBitmap bitmap = SKBitmap.Decode(Path.Combine(outDir, plot));
            HashSet<SKColor> colours = [.. bitmap.Pixels];
            foreach (ScottPlot.Color marker in new[] { EvaluationPlots.ModelThresholdColour, EvaluationPlots.OperatingPointColour })
            {
                Assert.Contains(new SKColor(marker.R, marker.G, marker.B), colours);
            }
        }
    }

    [Fact]
    public async Task FilesThatFailToDecodeAreListedCountedAndLeftOut()
    {
        string images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(images);
        var lines = new List<string> { "file,label" };
        foreach (string sample in TestAssets.SampleImages.Where((_, i) => i % 2 == 0))
        {
            File.Copy(sample, Path.Combine(images, Path.GetFileName(sample)));
            lines.Add($"{Path.GetFileName(sample)},{Path.GetFileName(Path.GetDirectoryName(sample))}");
        }

        var bad = TestAssets.BadFiles().Where(f => f.Name is "truncated.jpg" or "zero-bytes.jpg").ToList();
        foreach ((string name, byte[] bytes, _) in bad)
        {
            File.WriteAllBytes(Path.Combine(images, name), bytes);
            lines.Add($"{name},human");
        }

        string csv = Path.Combine(_dir, "mixed.csv");
        File.WriteAllLines(csv, lines);
        string outDir = Path.Combine(_dir, "report");

        (int exit, string stdout, string stderr) = await CliTests.RunAsync("eval", "--labels", csv, "--images", images, "--out", outDir, "--target-fpr", "0.5");

        Assert.True(exit == 0, stderr);
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        JsonElement root = metrics.RootElement;
        Assert.Equal(lines.Count - 1, root.GetProperty("rows").GetInt32());
        Assert.Equal(bad.Count, root.GetProperty("failed").GetInt32());
        Assert.Equal(lines.Count - 1 - bad.Count, root.GetProperty("overall").GetProperty("count").GetInt32());
        Assert.Equal(0.5, root.GetProperty("operatingPoint").GetProperty("targetFalsePositiveRate").GetDouble());
        var failures = root.GetProperty("failures").EnumerateArray().ToDictionary(f => f.GetProperty("file").GetString()!, f => f.GetProperty("code").GetString());
        Assert.Equal(bad.ToDictionary(b => b.Name, b => (string?)b.ExpectedCode), failures);
        Assert.Contains($"{bad.Count} failed", stdout);

        string report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Contains("| truncated.jpg | `decode_failed` |", report);
        Assert.Contains("| zero-bytes.jpg | `empty_file` |", report);
        Assert.Contains("zero-bytes.jpg,human,,empty_file", File.ReadAllLines(Path.Combine(outDir, "scores.csv")));
    }

    [Fact]
    public async Task BadInputIsAUsageErrorThatSaysWhatIsWrong()
    {
        string outDir = Path.Combine(_dir, "never");

        (int exit, string stdout, string stderr) = await CliTests.RunAsync("eval", "--labels", Path.Combine(_dir, "nowhere.csv"), "--images", TestAssets.SamplesDir, "--out", outDir);
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("nowhere.csv", stderr);

        string csv = Path.Combine(_dir, "missing.csv");
        File.WriteAllLines(csv, ["file,label", "human/photo-coffee.jpg,human", "ai/not-there.jpg,ai"]);
        (exit, stdout, stderr) = await CliTests.RunAsync("eval", "--labels", csv, "--images", TestAssets.SamplesDir, "--out", outDir);
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("ai/not-there.jpg", stderr);
        Assert.DoesNotContain("photo-coffee", stderr);

        File.WriteAllLines(csv, ["file,label", "human/photo-coffee.jpg,person"]);
        (exit, _, stderr) = await CliTests.RunAsync("eval", "--labels", csv, "--images", TestAssets.SamplesDir, "--out", outDir);
        Assert.Equal(2, exit);
        Assert.Contains("'person'", stderr);

        File.WriteAllLines(csv, ["file,label", "human/photo-coffee.jpg,human"]);
        (exit, _, stderr) = await CliTests.RunAsync("eval", "--labels", csv, "--images", TestAssets.SamplesDir, "--out", outDir, "--target-fpr", "5");
        Assert.Equal(2, exit);
        Assert.Contains("--target-fpr", stderr);

        (exit, _, stderr) = await CliTests.RunAsync("eval", "--labels", csv, "--images", TestAssets.SamplesDir, "--out", outDir, "--model", "no-such-model");
        Assert.Equal(3, exit);
        Assert.Contains("no-such-model", stderr);

        Assert.False(Directory.Exists(outDir));
    }
}
