using ArtGrid.Grains.Aggregation;
using ArtGrid.Grains.Diagnostics;
using ArtGrid.Grains.Imaging;
using ArtGrid.Grains.Inference;
using ArtGrid.Grains.Ingestion;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ArtGrid.Grains;

public static class GrainsServiceCollectionExtensions
{
    /// <summary>The domain services the grains use. Options bind from "ArtGrid:Preprocessing" and "ArtGrid:Inference".</summary>
    public static IServiceCollection AddArtGridGrainServices(this IServiceCollection services)
    {
        services.AddOptions<PreprocessingOptions>().BindConfiguration(PreprocessingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<VerdictOptions>().BindConfiguration(VerdictOptions.SectionName);
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<ArtGridInstruments>();
        services.TryAddSingleton<ImagePreprocessor>();
        services.TryAddSingleton(sp => new ModelRepository(sp.GetRequiredService<IOptions<InferenceOptions>>().Value.ModelsPath));
        services.TryAddSingleton<ModelSessions>();
        services.TryAddSingleton<IDeviceRouter, LocalDeviceRouter>();
        services.TryAddSingleton<IResultCache>(_ => new InMemoryResultCache());
        services.TryAddSingleton<IJobCompletion, NoJobCompletion>();
        return services;
    }
}
