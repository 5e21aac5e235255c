using ArtGrid.Grains.Inference;
using Microsoft.ML.OnnxRuntime;

namespace ArtGrid.Tests;

public sealed class BackboneTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    [Fact]
    public void BatchOfNGivesTheSameFeaturesAsNSingleRuns()
    {
        float[][] tensors = TestAssets.SampleImages.Select(fixture.Tensor).ToArray();
        Assert.True(tensors.Length >= 4);

        float[][] batched = fixture.Session.Run(tensors);
        Assert.Equal(tensors.Length, batched.Length);
        for (int i = 0; i < tensors.Length; i++)
        {
            float[] single = fixture.Session.Run([tensors[i]])[0];
            Assert.Equal(512, single.Length);
            float scale = single.Max(Math.Abs);
            float worst = single.Zip(batched[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-4f * Math.Max(1f, scale), $"image {i}: batch and single runs differ by {worst}");
        }

        // Different images give different features (a broken graph returning constants would pass the above).
        Assert.True(batched[0].Zip(batched[1], (a, b) => Math.Abs(a - b)).Max() > 1e-2f);
    }

    [Fact]
    public void TheShippedGraphHasAFixedBatchAndTheLoadedOneADynamicBatch()
    {
        using (var original = new InferenceSession(fixture.Model.BackbonePath))
        {
            Assert.Equal(1, original.InputMetadata["Input247"].Dimensions[0]);
        }

        using var rewritten = new InferenceSession(OnnxGraphs.Load(fixture.Model.BackbonePath, fixture.Model.Config.Backbone, fixture.Model.Input));
        Assert.Equal(-1, rewritten.InputMetadata["Input247"].Dimensions[0]);
        Assert.Equal(-1, rewritten.OutputMetadata["Pooling395_Output_0"].Dimensions[0]);
    }

    [Fact]
    public void TheDefaultModelLoadsWithAHeadOverAll512Features()
    {
        Assert.Equal("artgrid-resnet18/1", fixture.Model.Id);
        Assert.Equal(512, fixture.Model.Head!.FeatureCount);
        Assert.True(File.Exists(Path.Combine(fixture.Model.Directory, "metrics.json")));
        double p = fixture.Model.Head!.Probability(fixture.Session.Run([fixture.Tensor(TestAssets.Photo)])[0]);
        Assert.InRange(p, 0.0, 1.0);
    }
}
