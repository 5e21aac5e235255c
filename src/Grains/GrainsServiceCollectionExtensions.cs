using ArtGrid.Grains.Aggregation;
using ArtGrid.Grains.Diagnostics;
using ArtGrid.Grains.Imaging;
using ArtGrid.Grains.Imaging.Sandbox;
using ArtGrid.Grains.Inference;
using ArtGrid.Grains.Ingestion;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ArtGrid.Grains;

public static class GrainsServiceCollectionExtensions
{
    /// <summary>The domain services the grains use. Options bind from "ArtGrid:Preprocessing" (and its "Sandbox" section) and "ArtGrid:Inference".</summary>
    public static IServiceCollection AddArtGridGrainServices(this IServiceCollection services)
    {
        services.AddOptions<PreprocessingOptions>().BindConfiguration(PreprocessingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<VerdictOptions>().BindConfiguration(VerdictOptions.SectionName);
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<ArtGridInstruments>();
        services.TryAddSingleton<ImagePreprocessor>();
        services.AddOptions<DecodeSandboxOptions>().BindConfiguration(DecodeSandboxOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<DecodeSandbox>();
        services.TryAddSingleton<IImagePreparer>(sp => sp.GetRequiredService<IOptions<PreprocessingOptions>>().Value.Isolation switch
        {
            DecodeIsolation.Sandbox => sp.GetRequiredService<DecodeSandbox>(),
            _ => new InProcessImagePreparer(sp.GetRequiredService<ImagePreprocessor>()),
        });
        services.AddHostedService<DecodeSandboxStarter>();
        services.TryAddSingleton(sp => new ModelRepository(sp.GetRequiredService<IOptions<InferenceOptions>>().Value.ModelsPath));
        services.TryAddSingleton<ModelSessions>();
        services.TryAddSingleton<ActiveVersions>();
        services.TryAddSingleton<IDeviceRouter, LocalDeviceRouter>();
        services.TryAddSingleton<IResultCache>(_ => new InMemoryResultCache());
        services.TryAddSingleton<IJobCompletion, NoJobCompletion>();
        return services;
    }
}
