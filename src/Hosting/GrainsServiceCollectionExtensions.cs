using ArtGrid.Grains;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Sandbox;
using ArtGrid.Inference;
using ArtGrid.Inference.Devices;
using ArtGrid.Inference.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace ArtGrid.Hosting;

public static class GrainsServiceCollectionExtensions
{
    /// <summary>
    /// The domain services the grains use. Options bind from "ArtGrid:Preprocessing" (and its "Sandbox" section),
    /// "ArtGrid:Inference" and "ArtGrid:Authors".
    /// </summary>
    public static IServiceCollection AddArtGridGrainServices(this IServiceCollection services)
    {
        services.AddArtGridSection<PreprocessingOptions, PreprocessingOptionsValidator>(PreprocessingOptions.SectionName);
        services.AddArtGridSection<VerdictOptions>(VerdictOptions.SectionName);
        services.AddArtGridSection<JobOptions>(JobOptions.SectionName);
        services.AddArtGridSection<InferenceOptions, InferenceOptionsValidator>(InferenceOptions.SectionName);
        services.AddArtGridSection<AuthorOptions, AuthorOptionsValidator>(AuthorOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<ArtGridInstruments>();
        services.TryAddSingleton<DecodeInstruments>();
        services.TryAddSingleton<ImagePreprocessor>();
        services.AddArtGridSection<DecodeSandboxOptions, DecodeSandboxOptionsValidator>(DecodeSandboxOptions.SectionName);

        // The pools follow the cores the silo is given ("ArtGrid:Silo:Cores"), unless their own settings are set.
        services.AddOptions<SiloOptions>().BindConfiguration(SiloOptions.SectionName);
        services.AddOptions<DecodeSandboxOptions>().PostConfigure<IOptions<SiloOptions>>((sandbox, silo) =>
            sandbox.Workers = SiloCores.Of(silo.Value.Cores, Environment.ProcessorCount, sandbox.Workers, 0).DecodeWorkers);
        services.AddOptions<InferenceOptions>().PostConfigure<IOptions<SiloOptions>>((inference, silo) =>
            inference.IntraOpThreads = SiloCores.Of(silo.Value.Cores, Environment.ProcessorCount, null, inference.IntraOpThreads).IntraOpThreads);
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
        services.TryAddSingleton<LocalDevices>();
        services.TryAddSingleton<IResultCache>(_ => new InMemoryResultCache());
        services.TryAddSingleton<IJobCompletion, NoJobCompletion>();
        services.TryAddSingleton<ImageScorer>();
        services.TryAddSingleton<JobVerdicts>();
        return services;
    }

    /// <summary>
    /// This silo's devices ("ArtGrid:Inference:Devices"), advertised to the cluster in the silo's metadata, with the
    /// placement that pins each device's inference grain to its silo and the router that sends tensors to devices
    /// (this silo's first, others' when those are saturated or absent). Every silo of a cluster needs it, devices or not.
    /// </summary>
    public static ISiloBuilder AddArtGridDevices(this ISiloBuilder silo)
    {
        DeviceInventory inventory = DeviceInventory.FromConfiguration(silo.Configuration, () => [.. new GpuProbe().List().Select(g => g.Index)]);
        silo.UseSiloMetadata(new Dictionary<string, string> { [DeviceInventory.MetadataKey] = inventory.Advertised });
        silo.Services.AddSingleton(inventory);
        silo.Services.AddPlacementDirector<DevicePlacement, DevicePlacementDirector>();
        silo.Services.AddPlacementDirector<SharePlacement, SharePlacementDirector>();
        silo.Services.TryAddSingleton<ClusterDevices>();
        silo.Services.TryAddSingleton<IDeviceRouter, LoadAwareDeviceRouter>();
        silo.Services.TryAddSingleton<InferenceDispatcher>();
        silo.Services.TryAddSingleton<IntakeGate>();
        return silo;
    }
}
