using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Models;

/// <summary>The shipped ResNet-18 model read through its last convolutional map: same features, same scores, and a map.</summary>
public sealed class ShippedModelTests(ModelFixture fixture, ITestOutputHelper log) : IClassFixture<ModelFixture>
{
    private const string FeatureMap = "ReLU393_Output_0", PackagePooling = "Pooling395_Output_0";

    [Fact]
    public void TheLastConvMapAveragedOverItsCellsIsThePackagesPoolingOutput()
    {
        BackboneConfig both = fixture.Model.Config.Backbone with { Outputs = [PackagePooling, FeatureMap], FeatureMap = null };
        using var session = new OnnxModelSession(fixture.Model.BackbonePath, both, fixture.Model.Input, "cpu:0", intraOpThreads: 0);
        Assert.Equal(new long[] { 1, 512, 1, 1 }, session.OutputShapes[PackagePooling]);
        Assert.Equal(new long[] { 1, 512, 7, 7 }, session.OutputShapes[FeatureMap]);

        float[][] features = session.Run([.. TestAssets.SampleImages.Select(fixture.Tensor)]);

        foreach (float[] f in features)
        {
            Assert.Equal(1024, f.Length);
            float worst = Enumerable.Range(0, 512).Max(c => Math.Abs(f[c] - f[512 + c]));
            Assert.True(worst <= 1e-4f, $"GAP({FeatureMap}) and {PackagePooling} differ by {worst}");
            Assert.True(f[..512].Max() > 0.1f, "the features should not be all zero");
        }
    }

    [Fact]
    public void TheShippedConfigScoresAsTheOriginalPoolingOutputDidAndGivesAMapWhoseMeanIsTheLogit()
    {
        Assert.Equal([FeatureMap], fixture.Model.Config.Backbone.OutputNames);
        Assert.Equal(FeatureMap, fixture.Model.Config.Backbone.FeatureMap);
        BackboneConfig original = fixture.Model.Config.Backbone with { Output = PackagePooling, Outputs = null, FeatureMap = null };
        using var before = new OnnxModelSession(fixture.Model.BackbonePath, original, fixture.Model.Input, "cpu:0", intraOpThreads: 0);
        float[][] tensors = [.. TestAssets.SampleImages.Select(fixture.Tensor)];

        double[] old = [.. before.Run(tensors).Select(f => fixture.Model.Head!.Probability(f))];
        ModelScore[] now = fixture.Session.Score(tensors);

        Assert.True(fixture.Session.HasActivationMaps);
        for (int i = 0; i < tensors.Length; i++)
        {
            log.WriteLine($"{Path.GetFileName(TestAssets.SampleImages[i])}: {old[i]:0.000000} before, {now[i].AiProbability:0.000000} now");
            Assert.Equal(old[i], now[i].AiProbability, 6);
            ActivationMap map = now[i].Map!;
            Assert.Equal((7, 7), (map.Height, map.Width));
            double logit = Math.Log(now[i].AiProbability / (1 - now[i].AiProbability));
            Assert.Equal(logit, map.Logits.Average(), 3);
            Assert.True(map.Logits.Max() - map.Logits.Min() > 0.1, "a real image's map should not be flat");
        }
    }

    [Fact]
    public void At448TheFullyConvolutionalBackboneRunsAndItsOutputsArePooled()
    {
        // The package's pooling is a fixed 7x7 AveragePool with stride 1: at 448 it gives 8 x 8 windows, not one.
        InputConfig input = fixture.Model.Config.Input with { Width = 448, Height = 448, MeanImage = null };
        ModelInputSpec spec = ModelRepository.BuildInputSpec(fixture.Model.Directory, input);
        BackboneConfig both = fixture.Model.Config.Backbone with { Outputs = [FeatureMap, PackagePooling], FeatureMap = null };
        using (var session = new OnnxModelSession(fixture.Model.BackbonePath, both, spec, "cpu:0", intraOpThreads: 0))
        {
            foreach ((string name, long[] shape) in session.OutputShapes)
            {
                log.WriteLine($"448x448: {name} [{string.Join(", ", shape)}]");
            }

            Assert.Equal(new long[] { 1, 512, 14, 14 }, session.OutputShapes[FeatureMap]);
            Assert.Equal(new long[] { 1, 512, 8, 8 }, session.OutputShapes[PackagePooling]);
        }

        // The shipped head scores at 448 too, with a 14 x 14 map.
        LoadedModel at448 = fixture.Model with { Input = spec, Config = fixture.Model.Config with { Input = input } };
        using var scorer = new OnnxModelSession(at448, "cpu:0", intraOpThreads: 0);
        float[] tensor = fixture.Preprocessor.Prepare(File.ReadAllBytes(TestAssets.Photo), spec).Tensor!;
        ModelScore score = scorer.Score([tensor])[0];
        Assert.InRange(score.AiProbability, 0.0, 1.0);
        Assert.Equal((14, 14), (score.Map!.Height, score.Map.Width));
    }
}
