using System.Text.Json;
using ArtGrid.Inference;

namespace ArtGrid.Tests.Models;

/// <summary>A model version with an attribution head: loaded with it, scored with the family each image most resembles.</summary>
public sealed class AttributionModelTests(ModelFixture fixture) : IClassFixture<ModelFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("artgrid-attribution-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void EveryScoreNamesAFamilyWhenTheVersionShipsAnAttributionHead_AndAHeadOfTheWrongLengthIsRefused()
    {
        string folder = TestModelRepository.CopyVersion(_root, "5");
        string configPath = Path.Combine(folder, ModelRepository.ConfigFile);
        ModelConfig config = JsonSerializer.Deserialize<ModelConfig>(File.ReadAllText(configPath), ModelConfig.JsonOptions)! with { Attribution = "attribution.json" };
        File.WriteAllText(configPath, JsonSerializer.Serialize(config, ModelConfig.JsonOptions));

        // Two families over the baseline's 512 features: "bright" weighs every feature up, "dark" down.
        int features = fixture.Model.Head!.FeatureCount;
        var head = new AttributionHead(
            ["bright", "dark"], [.. Enumerable.Repeat(0f, features)], [.. Enumerable.Repeat(1f, features)],
            [[.. Enumerable.Repeat(0.01f, features)], [.. Enumerable.Repeat(-0.01f, features)]], [0f, 0f]);
        head.Save(Path.Combine(folder, "attribution.json"));

        LoadedModel model = ModelRepository.LoadDirectory(folder);
        Assert.NotNull(model.Attribution);
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 0);
        ModelScore[] scores = session.Score([.. TestAssets.SampleImages.Take(3).Select(fixture.Tensor)]);

        // ReLU outputs are non-negative, so every image leans "bright"; the probability is the head's own softmax.
        float[] pooled = fixture.Session.Run([fixture.Tensor(TestAssets.SampleImages[0])])[0];
        Assert.All(scores, s => Assert.Equal("bright", s.Generator!.Family));
        Assert.Equal(head.Predict(pooled), scores[0].Generator);

        (head with { FeatureMean = [0f], FeatureStd = [1f], Weights = [[1f], [1f]] }).Save(Path.Combine(folder, "attribution.json"));
        InvalidDataException refused = Assert.Throws<InvalidDataException>(() => ModelRepository.LoadDirectory(folder));
        Assert.Contains("weighs 1 features", refused.Message);
    }
}
