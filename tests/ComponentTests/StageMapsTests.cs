using ArtGrid.Inference;

namespace ArtGrid.Tests;

/// <summary>Activation maps of a head over two stages: the coarser stage's share of the logit lands on the cells it covers.</summary>
public sealed class StageMapsTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    [Fact]
    public void TheThirdStagesWeightsShowInTheSecondStagesMapBlockByBlock()
    {
        ModelConfig config = ModelTemplates.ResNet18("stages", "1", ["ReLU315_Output_0", "ReLU347_Output_0"]);
        Assert.Equal("ReLU315_Output_0", config.Backbone.FeatureMap);

        // Only the third stage's 256 features weigh: the second stage alone would give a flat map.
        var rng = new Random(5);
        float[] weights = [.. Enumerable.Range(0, 128 + 256).Select(j => j < 128 ? 0f : (float)(rng.NextDouble() - 0.5))];
        var head = new LinearHead([.. Enumerable.Repeat(0f, 384)], [.. Enumerable.Repeat(1f, 384)], weights, 0.1f);
        var model = new LoadedModel("stages/1", TestAssets.ModelsDir, config, fixture.Model.Input, head, fixture.Model.BackbonePath);
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 0);

        ModelScore score = session.Score([fixture.Tensor(TestAssets.Photo)])[0];

        ActivationMap map = score.Map!;
        Assert.Equal((28, 28), (map.Height, map.Width));
        double logit = Math.Log(score.AiProbability / (1 - score.AiProbability));
        Assert.Equal(logit, map.Logits.Average(v => (double)v), 3);
        Assert.True(map.Logits.Max() - map.Logits.Min() > 1e-3, "the map is flat: the third stage's share is missing");
        for (int y = 0; y < 28; y += 2)
        {
            for (int x = 0; x < 28; x += 2)
            {
                float cell = map.Logits[(y * 28) + x];
                Assert.Equal(cell, map.Logits[(y * 28) + x + 1], 4);
                Assert.Equal(cell, map.Logits[((y + 1) * 28) + x], 4);
            }
        }
    }
}
