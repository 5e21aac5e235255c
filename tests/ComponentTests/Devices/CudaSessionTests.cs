using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using ArtGrid.Inference.Devices;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.Devices;

/// <summary>
/// The device paths of <see cref="OnnxModelSession"/> that a CPU build can test: the IOBinding path against the plain
/// one on a real model and real images, the CUDA provider's settings, and the refusals of devices it cannot serve.
/// </summary>
public sealed class CudaSessionTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    [Fact]
    public void IoBindingGivesTheScoresAndMapsOfThePlainPath()
    {
        float[][] tensors = [.. TestAssets.SampleImages.Take(3).Select(fixture.Tensor)];
        using var plain = new OnnxModelSession(fixture.Model, "cpu:0", intraOpThreads: 1);
        using var bound = new OnnxModelSession(fixture.Model, "cpu:0", intraOpThreads: 1, useIoBinding: true);
        Assert.False(plain.UsesIoBinding);
        Assert.True(bound.UsesIoBinding);
        Assert.True(bound.HasActivationMaps);

        // A batch, and one image alone (the batch of one is the path a fixed-batch graph takes).
        foreach (float[][] batch in new[] { tensors, tensors[..1] })
        {
            ModelScore[] expected = plain.Score(batch);
            ModelScore[] actual = bound.Score(batch);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.InRange(Math.Abs(expected[i].AiProbability - actual[i].AiProbability), 0, 1e-6);
                Assert.Equal(expected[i].Map!.Logits.Length, actual[i].Map!.Logits.Length);
                float worst = expected[i].Map!.Logits.Zip(actual[i].Map!.Logits, (a, b) => Math.Abs(a - b)).Max();
                Assert.True(worst <= 1e-6f, $"image {i}: maps differ by {worst}");
            }

            float[][] expectedFeatures = plain.Run(batch), actualFeatures = bound.Run(batch);
            for (int i = 0; i < expectedFeatures.Length; i++)
            {
                float worst = expectedFeatures[i].Zip(actualFeatures[i], (a, b) => Math.Abs(a - b)).Max();
                Assert.True(worst <= 1e-6f, $"image {i}: features differ by {worst}");
            }
        }

        // Different images still score differently through the binding (a binding stuck on one input would not).
        ModelScore[] scores = bound.Score(tensors);
        Assert.NotEqual(scores[0].AiProbability, scores[1].AiProbability);
    }

    [Fact]
    public void CudaOptionsTurnIntoTheProvidersSettings()
    {
        Dictionary<string, string> unbounded = OnnxModelSession.CudaProviderSettings(new DeviceId(DeviceKind.Cuda, 3), new CudaOptions { ConvAlgoSearch = "heuristic" });
        Assert.Equal("3", unbounded["device_id"]);
        Assert.Equal("HEURISTIC", unbounded["cudnn_conv_algo_search"]);
        Assert.Equal("1", unbounded["do_copy_in_default_stream"]);
        Assert.False(unbounded.ContainsKey("gpu_mem_limit"));
        Assert.False(unbounded.ContainsKey("arena_extend_strategy"));

        Dictionary<string, string> bounded = OnnxModelSession.CudaProviderSettings(new DeviceId(DeviceKind.Cuda, 0), new CudaOptions { MemoryLimitMib = 6144 });
        Assert.Equal("EXHAUSTIVE", bounded["cudnn_conv_algo_search"]);
        Assert.Equal((6144L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), bounded["gpu_mem_limit"]);
        Assert.Equal("kSameAsRequested", bounded["arena_extend_strategy"]);

        var ex = Assert.Throws<ArgumentException>(() => OnnxModelSession.CudaProviderSettings(new DeviceId(DeviceKind.Cuda, 0), new CudaOptions { ConvAlgoSearch = "Fastest" }));
        Assert.Contains("ConvAlgoSearch is 'Fastest'", ex.Message);
        Assert.Contains("Exhaustive, Heuristic or Default", ex.Message);
    }

    [Fact]
    public void CudaOnACpuBuildSaysSoAndHowToBuildOne()
    {
        Assert.False(OnnxModelSession.HasCudaProvider, "This test is about the default (CPU) build; a -p:ArtGridGpu=true build has the CUDA provider.");
        Assert.Contains("CPUExecutionProvider", OnnxModelSession.AvailableProviders);

        var ex = Assert.Throws<NotSupportedException>(() => new OnnxModelSession(fixture.Model, "cuda:0", intraOpThreads: 1));
        Assert.Contains("no CUDA provider", ex.Message);
        Assert.Contains("-p:ArtGridGpu=true", ex.Message);
        Assert.Contains("docs/GPU.md", ex.Message);
    }

    [Fact]
    public void SimDevicesAndUnknownNamesHaveNoSession()
    {
        var sim = Assert.Throws<NotSupportedException>(() => new OnnxModelSession(fixture.Model, "sim:0", intraOpThreads: 1));
        Assert.Contains("sim devices have no ONNX Runtime session", sim.Message);

        Assert.Throws<FormatException>(() => new OnnxModelSession(fixture.Model, "tpu:0", intraOpThreads: 1));
    }

    [Fact]
    public void ModelSessionsHandsTheCudaOptionsToTheSession()
    {
        // A setting only the CUDA path reads, and that it rejects before it looks for the provider: the error proves
        // that the silo's ArtGrid:Inference:Cuda reached the session.
        var options = new InferenceOptions { ModelsPath = TestAssets.ModelsDir, Cuda = new CudaOptions { ConvAlgoSearch = "Fastest" } };
        using var sessions = new ModelSessions(new ModelRepository(TestAssets.ModelsDir), Options.Create(options));

        var ex = Assert.Throws<ArgumentException>(() => sessions.AcquireSession(fixture.Model.Id, "cuda:0"));
        Assert.Contains("'Fastest'", ex.Message);
        Assert.Empty(sessions.LoadedSessions);
    }
}
