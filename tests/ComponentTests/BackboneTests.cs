using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Google.Protobuf;
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
        Assert.Equal(-1, rewritten.OutputMetadata["ReLU393_Output_0"].Dimensions[0]);

        // Outputs the config does not read are cut away with the nodes that only they needed.
        Assert.False(rewritten.OutputMetadata.ContainsKey("Pooling395_Output_0"));
    }

    [Fact]
    public void AnEarlyStageLoadsWithoutTheLayersAfterIt()
    {
        BackboneConfig secondStage = fixture.Model.Config.Backbone with { Outputs = ["ReLU315_Output_0"], FeatureMap = null };
        Onnx.ModelProto whole = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(fixture.Model.BackbonePath));
        Onnx.ModelProto cut = OnnxGraphs.Prepare(fixture.Model.BackbonePath, secondStage, fixture.Model.Input);

        Assert.Equal(["ReLU315_Output_0"], cut.Graph.Output.Select(o => o.Name));
        Assert.DoesNotContain(cut.Graph.Node, n => n.Output.Contains("ReLU393_Output_0"));
        Assert.True(cut.Graph.Node.Count < whole.Graph.Node.Count / 2, $"{cut.Graph.Node.Count} of {whole.Graph.Node.Count} nodes kept");
        Assert.True(cut.Graph.Initializer.Sum(t => t.CalculateSize()) < whole.Graph.Initializer.Sum(t => t.CalculateSize()) / 4);

        // The cut graph computes the same second-stage values as the whole one.
        var input = new float[fixture.Model.Input.ElementCount];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (i * 7919 % 255) - 120f;
        }

        float[] Run(byte[] graph)
        {
            using var session = new InferenceSession(graph);
            using OrtValue value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, 224, 224]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ["Input247"], [value], ["ReLU315_Output_0"]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        byte[] wholeWithOutput = OnnxGraphs.Load(fixture.Model.BackbonePath, fixture.Model.Config.Backbone with { Outputs = ["ReLU315_Output_0", "ReLU393_Output_0"], FeatureMap = null }, fixture.Model.Input);
        float[] expected = Run(wholeWithOutput);
        float[] actual = Run(cut.ToByteArray());
        Assert.Equal(128 * 28 * 28, actual.Length);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void TheDefaultModelReadsTheSecondAndThirdStagesWithACalibratedOperatingPoint()
    {
        LoadedModel model = new ModelRepository(TestAssets.ModelsDir).Load("artgrid-resnet18");
        Assert.Equal(TestAssets.DefaultModelId, model.Id);
        Assert.Equal(128 + 256, model.Head!.FeatureCount);
        Assert.Equal(["ReLU315_Output_0", "ReLU347_Output_0"], model.Config.Backbone.OutputNames);
        Assert.Equal("ReLU315_Output_0", model.Config.Backbone.FeatureMap);

        // The threshold and band are the ones train read off the out-of-source scores, as metrics.json records.
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(model.Directory, "metrics.json")));
        System.Text.Json.JsonElement operatingPoint = metrics.RootElement.GetProperty("operatingPoint");
        Assert.Equal(operatingPoint.GetProperty("threshold").GetDouble(), model.Config.Threshold);
        Assert.Equal(operatingPoint.GetProperty("uncertain").GetProperty("low").GetDouble(), model.Config.Uncertain.Low);
        Assert.True(metrics.RootElement.GetProperty("groupedCrossValidation").GetProperty("rocAuc").GetDouble() > 0.8);
        System.Text.Json.JsonElement outOfGroup = metrics.RootElement.GetProperty("outOfGroup");
        Assert.True(outOfGroup.GetProperty("rocAuc").GetDouble() > 0.8);

        // The promise per source: no human group of 30 or more images had over 5% flagged out of group.
        Assert.All(
            outOfGroup.GetProperty("shippedThreshold").GetProperty("byGroup").EnumerateArray().Where(g => g.GetProperty("images").GetInt32() >= 30),
            g => Assert.True(g.GetProperty("rate").GetDouble() <= 0.05, g.ToString()));

        // Each sample gets a probability and a 28x28 map whose mean is the image's logit.
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 0);
        ModelScore[] scores = session.Score([.. TestAssets.SampleImages.Select(f => fixture.Preprocessor.Prepare(File.ReadAllBytes(f), model.Input).Tensor!)]);
        Assert.All(scores, s =>
        {
            Assert.InRange(s.AiProbability, 0.0, 1.0);
            Assert.Equal((28, 28), (s.Map!.Height, s.Map.Width));
            Assert.Equal(Math.Log(s.AiProbability / (1 - s.AiProbability)), s.Map.Logits.Average(), 3);
        });
        Assert.True(scores.Select(s => s.AiProbability).Distinct().Count() == scores.Length);
    }

    [Fact]
    public void TheBaselineModelLoadsWithAHeadOverAll512Features()
    {
        Assert.Equal("artgrid-resnet18/1", fixture.Model.Id);
        Assert.Equal(512, fixture.Model.Head!.FeatureCount);
        Assert.True(File.Exists(Path.Combine(fixture.Model.Directory, "metrics.json")));
        double p = fixture.Model.Head!.Probability(fixture.Session.Run([fixture.Tensor(TestAssets.Photo)])[0]);
        Assert.InRange(p, 0.0, 1.0);
    }
}
