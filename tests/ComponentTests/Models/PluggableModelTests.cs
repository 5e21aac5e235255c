using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;
using Onnx;
using SixLabors.ImageSharp.PixelFormats;
using static ArtGrid.Tests.Models.TinyModels;

namespace ArtGrid.Tests.Models;

/// <summary>
/// Every model.json option, end to end: a real PNG of known colours goes through the serving preprocessing into a
/// small ONNX graph with hand-set weights, and the probability (and map) must be the one computed here by hand.
/// </summary>
public sealed class PluggableModelTests : IDisposable
{
    private const int W = 4, H = 2;
    private static readonly Rgb24 Left = new(230, 100, 20), Right = new(40, 220, 90);
    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];
    private static readonly LinearHead MeansHead = new([0.1f, 0.2f, 0.3f], [2f, 1f, 0.5f], [1.5f, -2f, 0.5f], 0.25f);

    private readonly string _root = Directory.CreateTempSubdirectory("artgrid-models-").FullName;
    private readonly ImagePreprocessor _preprocessor = new(Options.Create(new PreprocessingOptions()));
    private readonly string _image;

    public PluggableModelTests() => _image = TwoColourPng(Path.Combine(_root, "two-colours.png"), W, H, Left, Right);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("NCHW", "RGB")]
    [InlineData("NCHW", "BGR")]
    [InlineData("NHWC", "RGB")]
    [InlineData("NHWC", "BGR")]
    public void FeaturesUnderAHeadFollowLayoutChannelOrderScaleMeanAndStd(string layout, string order)
    {
        bool nhwc = layout == "NHWC";
        ModelProto graph = nhwc
            ? Graph(
                Tensor(Input, 1, H, W, 3),
                [Node("Transpose", [Input], ["planar"], Ints("perm", 0, 3, 1, 2)), ChannelMeans("planar", "means")],
                [Tensor("means", 1, 3)])
            : Graph(Tensor(Input, 1, 3, H, W), [ChannelMeans(Input, "means")], [Tensor("means", 1, 3)]);
        string dir = WriteVersion(_root, $"means-{layout}-{order}", graph, Config(["means"], input => input with { Layout = layout, ChannelOrder = order }), MeansHead);

        double p = ScoreOne(dir).AiProbability;

        double[] features = ChannelMeansByHand(order == "BGR");
        Assert.Equal(MeansHead.Probability([.. features.Select(f => (float)f)]), p, 5);
        Assert.Equal(HeadByHand(features), p, 5);

        // The channel order matters for these colours and weights: a swap would be seen.
        Assert.True(Math.Abs(HeadByHand(ChannelMeansByHand(bgr: true)) - HeadByHand(ChannelMeansByHand(bgr: false))) > 0.02);
    }

    [Theory]
    [InlineData("logits", 1, 1)]
    [InlineData("logits", 2, 0)]
    [InlineData("logits", 2, 1)]
    [InlineData("probabilities", 1, 1)]
    [InlineData("probabilities", 2, 0)]
    [InlineData("probabilities", 2, 1)]
    public void ClassifierOutputsAreReadAtTheAiIndexWithoutAHead(string kind, int classes, int aiIndex)
    {
        float[] weights = new[] { 0.8f, -1.5f, 2.5f, -0.6f, 1.1f, 0.4f }[..(3 * classes)];
        float[] bias = new[] { 0.2f, -0.3f }[..classes];
        var nodes = new List<NodeProto>
        {
            ChannelMeans(Input, "means"),
            Node("MatMul", ["means", "w"], ["product"]),
            Node("Add", ["product", "b"], [kind == "logits" ? "out" : "logits"]),
        };
        if (kind == "probabilities")
        {
            nodes.Add(classes == 1 ? Node("Sigmoid", ["logits"], ["out"]) : Node("Softmax", ["logits"], ["out"], Int("axis", 1)));
        }

        ModelProto graph = Graph(Tensor(Input, 1, 3, H, W), nodes, [Tensor("out", 1, classes)], Floats("w", [3, classes], weights), Floats("b", [classes], bias));
        var output = new OutputConfig { Kind = Enum.Parse<OutputKind>(kind, ignoreCase: true), AiIndex = aiIndex };
        string dir = WriteVersion(_root, $"{kind}-{classes}-{aiIndex}", graph, Config(["out"]) with { Output = output });

        LoadedModel model = ModelRepository.LoadDirectory(dir);
        Assert.Null(model.Head);
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);
        ModelScore score = session.Score([ImageTensor(model)])[0];

        double[] f = ChannelMeansByHand(bgr: false);
        double[] z = [.. Enumerable.Range(0, classes).Select(k => bias[k] + Enumerable.Range(0, 3).Sum(c => f[c] * weights[(c * classes) + k]))];
        double expected = classes == 1
            ? 1 / (1 + Math.Exp(-z[0]))
            : Math.Exp(z[aiIndex]) / z.Sum(Math.Exp);
        Assert.Equal(expected, score.AiProbability, 5);
        Assert.Null(score.Map);
        Assert.False(session.HasActivationMaps);
    }

    [Fact]
    public void SeveralOutputsAreConcatenatedAndTheFeatureMapGivesTheClassActivationMap()
    {
        // A 1x1 convolution to two channels makes the feature map; the graph outputs only its pooled form, so the
        // session must expose the map itself. Features: the 3 channel means, then the map's 2 pooled channels.
        float[] conv = [0.5f, -1f, 2f, 1.5f, 0.25f, -0.75f];
        float[] convBias = [0.1f, -0.2f];
        ModelProto graph = Graph(
            Tensor(Input, 1, 3, H, W),
            [
                ChannelMeans(Input, "means"),
                Node("Conv", [Input, "k", "kb"], ["fmap"], Ints("kernel_shape", 1, 1)),
                ChannelMeans("fmap", "fmapPooled"),
            ],
            [Tensor("means", 1, 3), Tensor("fmapPooled", 1, 2)],
            Floats("k", [2, 3, 1, 1], conv),
            Floats("kb", [2], convBias));
        var head = new LinearHead([0.1f, 0.2f, 0.3f, -0.5f, 0.4f], [2f, 1f, 0.5f, 1.5f, 3f], [1.5f, -2f, 0.5f, 0.9f, -1.3f], -0.2f);
        ModelConfig config = Config(["means", "fmap"], input => input with { ChannelOrder = "BGR" }) with
        {
            Backbone = new BackboneConfig { File = "graph.onnx", Outputs = ["means", "fmap"], FeatureMap = "fmap" },
        };
        string dir = WriteVersion(_root, "two-outputs", graph, config, head);
        LoadedModel model = ModelRepository.LoadDirectory(dir);
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);

        float[] features = session.Run([ImageTensor(model)])[0];
        ModelScore score = session.Score([ImageTensor(model)])[0];

        // By hand: the model channels (BGR) of each half, the map per half, the pooled features, the logit.
        double[] left = PixelByHand(Left, bgr: true), right = PixelByHand(Right, bgr: true);
        double Map(int k, double[] x) => convBias[k] + Enumerable.Range(0, 3).Sum(c => conv[(k * 3) + c] * x[c]);
        double[] expectedFeatures = [.. Enumerable.Range(0, 3).Select(c => (left[c] + right[c]) / 2), .. Enumerable.Range(0, 2).Select(k => (Map(k, left) + Map(k, right)) / 2)];
        Assert.Equal(5, session.FeatureCount);
        Assert.Equal(new long[] { 1, 2, H, W }, session.OutputShapes["fmap"]);
        for (int j = 0; j < 5; j++)
        {
            Assert.Equal(expectedFeatures[j], features[j], 4);
        }

        double logit = head.Bias + Enumerable.Range(0, 5).Sum(j => head.Weights[j] * (expectedFeatures[j] - head.FeatureMean[j]) / head.FeatureStd[j]);
        Assert.Equal(1 / (1 + Math.Exp(-logit)), score.AiProbability, 5);

        // The map: sum_k (w_k / s_k) fmap_k per cell, shifted so that its mean is the logit.
        double Cell(double[] x) => Enumerable.Range(0, 2).Sum(k => head.Weights[3 + k] / head.FeatureStd[3 + k] * Map(k, x));
        double shift = logit - ((Cell(left) + Cell(right)) / 2);
        ActivationMap map = Assert.IsType<ActivationMap>(score.Map);
        Assert.Equal((H, W), (map.Height, map.Width));
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                Assert.Equal(Cell(x < W / 2 ? left : right) + shift, map[y, x], 4);
            }
        }

        Assert.Equal(logit, map.Logits.Average(), 4);
        Assert.True(Math.Abs(map[0, 0] - map[0, W - 1]) > 0.1, "the two halves should differ on the map");
    }

    [Fact]
    public void AnInputSizeOtherThanTheGraphsIsMadeSymbolicAndTheBatchDynamic()
    {
        // The graph declares [1, 3, 2, 2]; the config feeds 6 x 4 images, three at a time.
        ModelProto graph = Graph(Tensor(Input, 1, 3, 2, 2), [ChannelMeans(Input, "means")], [Tensor("means", 1, 3)]);
        string dir = WriteVersion(_root, "other-size", graph, Config(["means"], input => input with { Width = 6, Height = 4 }), MeansHead);
        string image = TwoColourPng(Path.Combine(_root, "six-by-four.png"), 6, 4, Left, Right);

        LoadedModel model = ModelRepository.LoadDirectory(dir);
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);
        float[] tensor = _preprocessor.Prepare(File.ReadAllBytes(image), model.Input).Tensor!;
        ModelScore[] scores = session.Score([tensor, tensor, tensor]);

        Assert.Equal(3, scores.Length);
        Assert.All(scores, s => Assert.Equal(HeadByHand(ChannelMeansByHand(bgr: false)), s.AiProbability, 5));

        // Used as stored (dynamicBatch false), the graph cannot take another size: refused at load, saying why.
        string fixedDir = WriteVersion(_root, "other-size-fixed", graph, Config(["means"], input => input with { Width = 6, Height = 4 }) with
        {
            Backbone = new BackboneConfig { File = "graph.onnx", Outputs = ["means"], DynamicBatch = false },
        }, MeansHead);
        var error = Assert.Throws<InvalidDataException>(() => ModelRepository.LoadDirectory(fixedDir));
        Assert.Contains("dynamicBatch", error.Message);
        Assert.Contains(fixedDir, error.Message);
    }

    [Fact]
    public void AGraphWithAFixedBatchOfOneRunsABatchOneImageAtATime()
    {
        ModelProto graph = Graph(Tensor(Input, 1, 3, H, W), [ChannelMeans(Input, "means")], [Tensor("means", 1, 3)]);
        string dir = WriteVersion(_root, "fixed-batch", graph, Config(["means"]) with
        {
            Backbone = new BackboneConfig { File = "graph.onnx", Outputs = ["means"], DynamicBatch = false },
        }, MeansHead);
        string other = TwoColourPng(Path.Combine(_root, "swapped.png"), W, H, Right, Left with { R = 0 });
        LoadedModel model = ModelRepository.LoadDirectory(dir);
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);
        float[] a = ImageTensor(model), b = _preprocessor.Prepare(File.ReadAllBytes(other), model.Input).Tensor!;

        ModelScore[] batch = session.Score([a, b, a]);

        Assert.Equal(3, batch.Length);
        Assert.Equal(session.Score([a])[0].AiProbability, batch[0].AiProbability, 6);
        Assert.Equal(session.Score([b])[0].AiProbability, batch[1].AiProbability, 6);
        Assert.Equal(session.Score([a])[0].AiProbability, batch[2].AiProbability, 6);
        Assert.NotEqual(batch[0].AiProbability, batch[1].AiProbability, 3);
    }

    [Fact]
    public void AMeanImageIsSubtractedPixelByPixel()
    {
        float[] meanImage = [.. Enumerable.Range(0, 3 * H * W).Select(i => 0.01f * i * (i % 3 == 0 ? -1 : 1))];
        ModelProto holder = Graph(Tensor("unused", 1), [], [Tensor("unused", 1)], Floats("M", [1, 3, H, W], meanImage));
        ModelProto graph = Graph(Tensor(Input, 1, 3, H, W), [ChannelMeans(Input, "means")], [Tensor("means", 1, 3)]);
        string dir = WriteVersion(_root, "mean-image", graph, Config(["means"], input => input with { MeanImage = "mean.onnx#M" }), MeansHead);
        File.WriteAllBytes(Path.Combine(dir, "mean.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(holder));

        double p = ScoreOne(dir).AiProbability;

        // (pixel * scale - M[c, y, x]) / std[c], averaged over the pixels of each channel.
        double[] features = new double[3];
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < H * W; i++)
            {
                Rgb24 pixel = i % W < W / 2 ? Left : Right;
                double value = c switch { 0 => pixel.R, 1 => pixel.G, _ => pixel.B };
                features[c] += ((value / 255.0) - meanImage[(c * H * W) + i]) / ImageNetStd[c] / (H * W);
            }
        }

        Assert.Equal(HeadByHand(features), p, 5);
        Assert.NotEqual(HeadByHand(ChannelMeansByHand(bgr: false)), p, 3);
    }

    [Fact]
    public void AGraphThatGivesNoProbabilitiesWhereTheConfigSaysSoFailsTheBatch()
    {
        ModelProto graph = Graph(
            Tensor(Input, 1, 3, H, W),
            [ChannelMeans(Input, "means"), Node("MatMul", ["means", "w"], ["out"])],
            [Tensor("out", 1, 2)],
            Floats("w", [3, 2], 10f, -10f, 10f, -10f, 10f, -10f));
        string dir = WriteVersion(_root, "not-probabilities", graph, Config(["out"]) with { Output = new OutputConfig { Kind = OutputKind.Probabilities } });
        LoadedModel model = ModelRepository.LoadDirectory(dir);
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);

        var error = Assert.Throws<InvalidDataException>(() => session.Score([ImageTensor(model)]));
        Assert.Contains("AI probability", error.Message);
    }

    [Theory]
    [InlineData("features-without-head", "needs the linear head")]
    [InlineData("ai-index-beyond-columns", "output.aiIndex 2 is outside the 2 columns")]
    [InlineData("ai-index-negative", "output.aiIndex must be 0 or more")]
    [InlineData("labels-not-columns", "labels names 3 classes")]
    [InlineData("feature-map-not-an-output", "backbone.featureMap 'fmap' must be one of backbone.outputs (means)")]
    [InlineData("feature-map-under-logits", "backbone.featureMap needs output.kind features")]
    [InlineData("head-length", "weighs 4 features")]
    [InlineData("missing-output", "has no output or computed value 'nope' (its outputs: means [1, 3])")]
    [InlineData("missing-input", "has no input 'picture' (its inputs: image [1, 3, 2, 4])")]
    [InlineData("output-and-outputs", "not both")]
    [InlineData("wrong-layout", "input.layout NHWC feeds [N, H, W, 3]")]
    [InlineData("bad-channel-order", "input.channelOrder 'RGBA' must be RGB or BGR")]
    [InlineData("feature-map-not-4d", "is not a feature map [N, C, H, W]")]
    [InlineData("null-input", "input is null")]
    public void BadConfigsAreRefusedNamingTheFileAndTheField(string name, string expected)
    {
        ModelProto means = Graph(Tensor(Input, 1, 3, H, W), [ChannelMeans(Input, "means")], [Tensor("means", 1, 3)]);
        ModelProto logits = Graph(
            Tensor(Input, 1, 3, H, W),
            [ChannelMeans(Input, "means"), Node("MatMul", ["means", "w"], ["out"])],
            [Tensor("out", 1, 2)],
            Floats("w", [3, 2], 1f, 2f, 3f, 4f, 5f, 6f));
        var logitsOutput = new OutputConfig { Kind = OutputKind.Logits };
        string dir = name switch
        {
            "features-without-head" => WriteVersion(_root, name, means, Config(["means"])),
            "ai-index-beyond-columns" => WriteVersion(_root, name, logits, Config(["out"]) with { Output = logitsOutput with { AiIndex = 2 }, Labels = ["human", "ai", "other"] }),
            "ai-index-negative" => WriteVersion(_root, name, logits, Config(["out"]) with { Output = logitsOutput with { AiIndex = -1 } }),
            "labels-not-columns" => WriteVersion(_root, name, logits, Config(["out"]) with { Output = logitsOutput, Labels = ["human", "ai", "other"] }),
            "feature-map-not-an-output" => WriteVersion(_root, name, means, Config(["means"]) with { Backbone = new BackboneConfig { File = "graph.onnx", Outputs = ["means"], FeatureMap = "fmap" } }, MeansHead),
            "feature-map-under-logits" => WriteVersion(_root, name, logits, Config(["out"]) with { Output = logitsOutput, Backbone = new BackboneConfig { File = "graph.onnx", Outputs = ["out"], FeatureMap = "out" } }),
            "head-length" => WriteVersion(_root, name, means, Config(["means"]), new LinearHead([0f, 0f, 0f, 0f], [1f, 1f, 1f, 1f], [1f, 1f, 1f, 1f], 0f)),
            "missing-output" => WriteVersion(_root, name, means, Config(["nope"]), MeansHead),
            "missing-input" => WriteVersion(_root, name, means, Config(["means"], input => input with { Name = "picture" }), MeansHead),
            "output-and-outputs" => WriteVersion(_root, name, means, Config(["means"]) with { Backbone = new BackboneConfig { File = "graph.onnx", Output = "means", Outputs = ["means"] } }, MeansHead),
            "wrong-layout" => WriteVersion(_root, name, means, Config(["means"], input => input with { Layout = "NHWC" }), MeansHead),
            "bad-channel-order" => WriteVersion(_root, name, means, Config(["means"], input => input with { ChannelOrder = "RGBA" }), MeansHead),
            "feature-map-not-4d" => WriteVersion(_root, name, means, Config(["means"]) with { Backbone = new BackboneConfig { File = "graph.onnx", Outputs = ["means"], FeatureMap = "means" } }, MeansHead),
            "null-input" => WriteVersion(_root, name, means, new { name = "tiny", version = "1", backbone = new { file = "graph.onnx", outputs = new[] { "means" } }, input = (object?)null }, MeansHead),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        var error = Assert.Throws<InvalidDataException>(() =>
        {
            LoadedModel model = ModelRepository.LoadDirectory(dir);
            using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);
        });

        Assert.Contains(expected, error.Message);
        Assert.Contains(dir, error.Message);
    }

    private static ModelConfig Config(string[] outputs, Func<InputConfig, InputConfig>? input = null) => new()
    {
        Name = "tiny",
        Version = "1",
        Backbone = new BackboneConfig { File = "graph.onnx", Outputs = outputs },
        Input = (input ?? (i => i))(new InputConfig
        {
            Name = Input,
            Width = W,
            Height = H,
            Layout = "NCHW",
            ChannelOrder = "RGB",
            Scale = 1f / 255f,
            Mean = ImageNetMean,
            Std = ImageNetStd,
        }),
    };

    private ModelScore ScoreOne(string dir)
    {
        LoadedModel model = ModelRepository.LoadDirectory(dir);
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);
        return session.Score([ImageTensor(model)])[0];
    }

    private float[] ImageTensor(LoadedModel model) =>
        _preprocessor.Prepare(File.ReadAllBytes(_image), model.Input).Tensor ?? throw new InvalidOperationException("The test image did not preprocess.");

    // One pixel in model channels: (value / 255 - mean) / std, in model channel order.
    private static double[] PixelByHand(Rgb24 pixel, bool bgr)
    {
        double[] ordered = bgr ? [pixel.B, pixel.G, pixel.R] : [pixel.R, pixel.G, pixel.B];
        return [.. Enumerable.Range(0, 3).Select(c => ((ordered[c] / 255.0) - ImageNetMean[c]) / ImageNetStd[c])];
    }

    // The image is half one colour, half the other: each channel's mean is the mean of the two.
    private static double[] ChannelMeansByHand(bool bgr)
    {
        double[] left = PixelByHand(Left, bgr), right = PixelByHand(Right, bgr);
        return [.. Enumerable.Range(0, 3).Select(c => (left[c] + right[c]) / 2)];
    }

    private static double HeadByHand(double[] features)
    {
        double z = MeansHead.Bias;
        for (int c = 0; c < 3; c++)
        {
            z += MeansHead.Weights[c] * (features[c] - MeansHead.FeatureMean[c]) / MeansHead.FeatureStd[c];
        }

        return 1 / (1 + Math.Exp(-z));
    }
}
