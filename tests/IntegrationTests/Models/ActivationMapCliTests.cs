using System.Text.Json;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.Models;

/// <summary><c>artgrid explain</c> and <c>artgrid score --maps</c>, run as processes on real files.</summary>
public sealed class ActivationMapCliTests(ModelFixture fixture) : IClassFixture<ModelFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-maps-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ExplainWritesTheImageAtItsSizeWithTheMapOverItAndPrintsTheProbability()
    {
        string png = Path.Combine(_dir, "cat.png");

        (int exit, string stdout, string stderr) = await CliTests.RunAsync("explain", TestAssets.Photo, "--out", png, "--model", fixture.Model.Id);

        Assert.True(exit == 0, stderr);
        using JsonDocument line = JsonDocument.Parse(stdout);
        double p = line.RootElement.GetProperty("aiProbability").GetDouble();
        Assert.Equal(fixture.Session.Score([fixture.Tensor(TestAssets.Photo)])[0].AiProbability, p, 5);
        Assert.Equal(png, line.RootElement.GetProperty("map").GetString());

        using Image<Rgb24> written = Image.Load<Rgb24>(png);
        using Image<Rgb24> original = Image.Load<Rgb24>(TestAssets.Photo);
        Assert.Equal((451, 300), (written.Width, written.Height));
        double meanChange = 0;
        for (int y = 0; y < written.Height; y += 10)
        {
            for (int x = 0; x < written.Width; x += 10)
            {
                Rgb24 a = written[x, y], b = original[x, y];
                meanChange += Math.Abs(a.R - b.R) + Math.Abs(a.G - b.G) + Math.Abs(a.B - b.B);
            }
        }

        meanChange /= (written.Height / 10 + 1) * (written.Width / 10 + 1);
        Assert.True(meanChange > 20, $"the overlay should tint the image (mean change {meanChange:0.0})");
    }

    [Fact]
    public async Task ExplainAndMapsRefuseAModelWithoutAFeatureMap()
    {
        // The shipped model as it was configured before: the package's pooled output, which has no cells.
        string version = Path.Combine(_dir, "models", "pooled", "1");
        Directory.CreateDirectory(version);
        File.Copy(Path.Combine(fixture.Model.Directory, "head.json"), Path.Combine(version, "head.json"));
        ModelConfig config = fixture.Model.Config with
        {
            Name = "pooled",
            Backbone = fixture.Model.Config.Backbone with { Output = "Pooling395_Output_0", Outputs = null, FeatureMap = null },
        };
        File.WriteAllText(Path.Combine(version, ModelRepository.ConfigFile), JsonSerializer.Serialize(config, ModelConfig.JsonOptions));
        string models = Path.Combine(_dir, "models");

        (int exit, string stdout, string stderr) = await CliTests.RunAsync("explain", TestAssets.Photo, "--out", Path.Combine(_dir, "x.png"), "--models", models, "--model", "pooled");
        Assert.Equal(3, exit);
        Assert.Empty(stdout);
        Assert.Contains("pooled/1 has no activation maps", stderr);
        Assert.Contains("backbone.featureMap", stderr);

        (exit, stdout, stderr) = await CliTests.RunAsync("score", "--models", models, "--model", "pooled", "--maps", Path.Combine(_dir, "maps"), TestAssets.Photo);
        Assert.Equal(3, exit);
        Assert.Empty(stdout);
        Assert.Contains("--maps", stderr);

        // Scoring without maps works with it, and gives the shipped model's probability.
        (exit, stdout, stderr) = await CliTests.RunAsync("score", "--models", models, "--model", "pooled", TestAssets.Photo);
        Assert.True(exit == 0, stderr);
        using JsonDocument line = JsonDocument.Parse(stdout);
        Assert.Equal(fixture.Session.Score([fixture.Tensor(TestAssets.Photo)])[0].AiProbability, line.RootElement.GetProperty("aiProbability").GetDouble(), 5);
        Assert.False(line.RootElement.TryGetProperty("map", out _));
    }

    [Fact]
    public async Task ScoreWithMapsWritesOneOverlayPerScoredImageUnderDistinctNames()
    {
        // Two files of the same name (and content: the second is a cache hit) in two folders, and a broken file.
        string inputs = Path.Combine(_dir, "in");
        string sample = TestAssets.SampleImages[0];
        foreach (string sub in new[] { "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(inputs, sub));
            File.Copy(sample, Path.Combine(inputs, sub, "same.jpg"));
        }

        (string badName, byte[] badBytes, _) = TestAssets.BadFiles().Single(f => f.Name == "truncated.jpg");
        File.WriteAllBytes(Path.Combine(inputs, "a", badName), badBytes);
        string maps = Path.Combine(_dir, "maps");

        (int exit, string stdout, string stderr) = await CliTests.RunAsync("score", "--maps", maps, inputs);

        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("same.jpg", lines[0].GetProperty("path").GetString());
        Assert.EndsWith(badName, lines[1].GetProperty("path").GetString());
        Assert.EndsWith("same.jpg", lines[2].GetProperty("path").GetString());
        Assert.False(lines[1].TryGetProperty("map", out _));

        string first = lines[0].GetProperty("map").GetString()!, second = lines[2].GetProperty("map").GetString()!;
        Assert.Equal(Path.Combine(maps, "same.jpg.map.png"), first);
        Assert.Equal(Path.Combine(maps, "same.jpg-2.map.png"), second);
        IImageInfo source = Image.Identify(sample);
        foreach (string map in new[] { first, second })
        {
            IImageInfo info = Image.Identify(map);
            Assert.Equal((source.Width, source.Height), (info.Width, info.Height));
        }

        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.Equal(2, Directory.GetFiles(maps).Length);
    }
}
