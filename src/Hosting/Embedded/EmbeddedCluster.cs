using System.Globalization;
using ArtGrid.Grains;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Embedded;

/// <summary>
/// The embedded single-silo cluster (and its decode workers) that <c>artgrid score</c> and <c>artgrid eval</c> both run
/// images through, built in one place so that what eval measures is exactly what score serves.
/// </summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly IHost _host;

    private EmbeddedCluster(IHost host, LoadedModel model, int inFlight)
    {
        _host = host;
        Model = model;
        Scorer = CreateScorer(inFlight);
    }

    /// <summary>The model the cluster serves (the <c>--model</c> asked for, resolved to name/version).</summary>
    public LoadedModel Model { get; }

    public EmbeddedScorer Scorer { get; }

    /// <summary>A scorer of its own: another number in flight, a latency hook, or the scored images kept for activation maps.</summary>
    public EmbeddedScorer CreateScorer(int inFlight, Action<TimeSpan>? onScored = null, bool keepOrientedImages = false) =>
        new(
            _host.Services.GetRequiredService<ImageScorer>(),
            _host.Services.GetRequiredService<ActiveVersions>(),
            _host.Services.GetRequiredService<IOptions<VerdictOptions>>(),
            inFlight)
        {
            OnScored = onScored,
            KeepOrientedImages = keepOrientedImages,
        };

    public IServiceProvider Services => _host.Services;

    /// <summary>The configuration that the shared command-line options (<c>--models</c>, <c>--model</c>, <c>--max-batch</c>) set; null leaves a setting alone.</summary>
    public static Dictionary<string, string?> Settings(string? modelsPath, string? model, int? maxBatch) => new()
    {
        [$"{InferenceOptions.SectionName}:{nameof(InferenceOptions.ModelsPath)}"] = modelsPath,
        [$"{InferenceOptions.SectionName}:{nameof(InferenceOptions.Model)}"] = model,
        [$"{InferenceOptions.SectionName}:{nameof(InferenceOptions.MaxBatchSize)}"] = maxBatch?.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Why a model cannot draw activation maps, or null when it can.</summary>
    public static string? WhyNoActivationMaps(LoadedModel model) =>
        model.Config.Backbone.FeatureMap is null || model.Config.Output.Kind != OutputKind.Features
            ? $"model {model.Id} has no activation maps: they need backbone.featureMap and output.kind features in {Path.Combine(model.Directory, ModelRepository.ConfigFile)} (see docs/MODELS.md)."
            : null;

    /// <summary>
    /// Loads the model and starts the cluster; or returns null after telling stderr why the model cannot be loaded, or
    /// why <paramref name="refuse"/> turns it down ("artgrid {command}: …"), before anything is started: the caller
    /// exits with <see cref="ExitCodes.Setup"/>.
    /// </summary>
    public static async Task<EmbeddedCluster?> StartOrReportAsync(
        string command,
        IReadOnlyDictionary<string, string?> settings,
        int inFlight,
        bool verbose,
        CancellationToken cancellationToken,
        Func<LoadedModel, string?>? refuse = null)
    {
        // No appsettings.json: a silo's settings file beside the program (fixed ports) must not leak into a one-shot run.
        // Environment variables (ArtGrid__...) still apply; command-line options win over them.
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(settings.Where(kv => kv.Value is not null));
        builder.AddArtGridConsoleLogging(verbose ? LogLevel.Information : LogLevel.Warning);
        builder.AddArtGridEmbedded();
        IHost host = builder.Build();

        LoadedModel model;
        try
        {
            model = host.Services.GetRequiredService<ModelSessions>().DefaultModel;
        }
        catch (Exception ex) when (ex is ModelNotFoundException or InvalidDataException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            host.Dispose();
            await Console.Error.WriteLineAsync($"artgrid {command}: {ex.Message}");
            return null;
        }

        if (refuse?.Invoke(model) is { } why)
        {
            host.Dispose();
            await Console.Error.WriteLineAsync($"artgrid {command}: {why}");
            return null;
        }

        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new EmbeddedCluster(host, model, inFlight);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None);
        _host.Dispose();
    }
}
