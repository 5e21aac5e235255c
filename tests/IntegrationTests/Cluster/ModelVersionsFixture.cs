using ArtGrid.Grains.Models;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A cluster of its own (two silo processes on the real Redis and RabbitMQ, and the REST gateway) over a temporary
/// model repository with three versions of the default model: 1 (the shipped one), 2 (its head negated, so that every
/// probability p becomes 1 - p: which version scored an image shows in the number) and 3 (a head.json cut short, which
/// does not load). The silos are configured with version 1.
/// </summary>
public sealed class ModelVersionsFixture : IAsyncLifetime
{
    private GatewayProcess? _gateway;

    public ModelVersionsFixture()
    {
        TestModelRepository.CopyVersion(Repository, "1");
        TestModelRepository.CopyVersion(Repository, "2", TestModelRepository.Negated);
        TestModelRepository.BrokenVersion(Repository, "3");
        Servers = new ServersFixture
        {
            ExtraSettings = new Dictionary<string, string>
            {
                ["ArtGrid__Inference__ModelsPath"] = Repository,
                ["ArtGrid__Inference__Model"] = $"{TestModelRepository.Name}/1",
                // One job at a time per silo, so that jobs finish one after another and the switch can land between
                // them: with 16 at once, the first six jobs' images interleave and all six finished together once
                // preprocessing got faster, leaving nothing in flight to switch under.
                ["ArtGrid__Bus__ConcurrentMessageLimit"] = "1",
                ["ArtGrid__Bus__PrefetchCount"] = "1",
            },
        };
    }

    public string Repository { get; } = Directory.CreateTempSubdirectory("artgrid-models-").FullName;

    public ServersFixture Servers { get; }

    public GatewayProcess Gateway => _gateway ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>The silos' refresh interval (the default): the documented bound on a switch reaching every silo.</summary>
    public TimeSpan Refresh { get; } = TimeSpan.FromSeconds(new InferenceOptions().ActiveVersionRefreshSeconds);

    public async Task InitializeAsync()
    {
        await Servers.InitializeAsync();
        _gateway = await GatewayProcess.StartAsync(Servers);
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await Servers.DisposeAsync();
        Directory.Delete(Repository, recursive: true);
    }

    /// <summary>Version 1's probability for each image, computed in this process with the serving preprocessing.</summary>
    public double[] Version1Probabilities(IEnumerable<byte[]> images)
    {
        LoadedModel model = new ModelRepository(Repository).Load($"{TestModelRepository.Name}/1");
        using var session = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);
        var preprocessor = new ImagePreprocessor(Options.Create(new PreprocessingOptions()));
        return [.. images.Select(bytes => session.Score([preprocessor.Prepare(bytes, model.Input).Tensor!])[0].AiProbability)];
    }
}
