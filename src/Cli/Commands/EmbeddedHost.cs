using ArtGrid.Grains.Inference;
using ArtGrid.Silo.Extensions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ArtGrid.Cli.Commands;

/// <summary>The one-shot embedded cluster that <c>score</c> and <c>explain</c> run in, so that both score an image the same way.</summary>
public static class EmbeddedHost
{
    /// <summary>
    /// No appsettings.json: a silo's settings file beside the program (fixed ports) must not leak into a one-shot run.
    /// Environment variables (ArtGrid__...) still apply; command-line options win over them.
    /// </summary>
    public static IHost Build(IReadOnlyDictionary<string, string?> settings, bool verbose)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(settings.Where(kv => kv.Value is not null));
        builder.AddArtGridConsoleLogging(verbose ? LogLevel.Information : LogLevel.Warning);
        builder.AddArtGridEmbedded();
        return builder.Build();
    }

    /// <summary>The model the host serves, loaded before anything starts; null after telling stderr why it cannot be ("artgrid {command}: …").</summary>
    public static async Task<LoadedModel?> LoadModelOrReportAsync(IHost host, string command)
    {
        try
        {
            return host.Services.GetRequiredService<ModelSessions>().DefaultModel;
        }
        catch (Exception ex) when (ex is ModelNotFoundException or InvalidDataException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            await Console.Error.WriteLineAsync($"artgrid {command}: {ex.Message}");
            return null;
        }
    }

    /// <summary>Why a model cannot draw activation maps, or null when it can.</summary>
    public static string? WhyNoActivationMaps(LoadedModel model) =>
        model.Config.Backbone.FeatureMap is null || model.Config.Output.Kind != OutputKind.Features
            ? $"model {model.Id} has no activation maps: they need backbone.featureMap and output.kind features in {Path.Combine(model.Directory, ModelRepository.ConfigFile)} (see docs/MODELS.md)."
            : null;

    /// <summary>The settings the model options of a command set.</summary>
    public static Dictionary<string, string?> ModelSettings(string? models, string? model) => new()
    {
        [$"{InferenceOptions.SectionName}:{nameof(InferenceOptions.ModelsPath)}"] = models,
        [$"{InferenceOptions.SectionName}:{nameof(InferenceOptions.Model)}"] = model,
    };
}
