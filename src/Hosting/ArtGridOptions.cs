using ArtGrid.Grains;
using ArtGrid.Hosting.Caching;
using ArtGrid.Hosting.Gateway;
using ArtGrid.Hosting.Images;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Hosting.Webhooks;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Sandbox;
using ArtGrid.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting;

/// <summary>
/// Every options section of ArtGrid, bound and validated here and nowhere else: one compile-time validator per section
/// (the options source generator reads the data annotations, and <see cref="ValidateObjectMembersAttribute"/> walks into
/// nested sections such as CUDA and simulated devices), checked when the host starts (<c>ValidateOnStart</c>), or at
/// once for the settings a host needs while it is still being built (<see cref="Read{TOptions, TValidator}"/>).
/// </summary>
public static class ArtGridOptions
{
    /// <summary>Binds <typeparamref name="TOptions"/> to its section and validates it with <typeparamref name="TValidator"/> on start.</summary>
    internal static IServiceCollection AddArtGridSection<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>, new()
    {
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return services;
    }

    /// <summary>Binds a section that has nothing to validate (switches only).</summary>
    internal static IServiceCollection AddArtGridSection<TOptions>(this IServiceCollection services, string section)
        where TOptions : class
    {
        services.AddOptions<TOptions>().BindConfiguration(section);
        return services;
    }

    /// <summary>The gateway's section (<see cref="GatewayOptions"/>), validated on start.</summary>
    public static IServiceCollection AddArtGridGatewayOptions(this IServiceCollection services) =>
        services.AddArtGridSection<GatewayOptions, GatewayOptionsValidator>(GatewayOptions.SectionName);

    /// <summary>The gateway's section, validated now: for what the gateway needs while it is built (body limits, keys).</summary>
    public static GatewayOptions ReadGatewayOptions(this IConfiguration configuration) =>
        Read<GatewayOptions, GatewayOptionsValidator>(configuration, GatewayOptions.SectionName);

    /// <summary>
    /// Binds and validates a section now, for what a host needs while it is built (ports, the bus); throws
    /// <see cref="OptionsValidationException"/> naming every broken setting.
    /// </summary>
    internal static TOptions Read<TOptions, TValidator>(IConfiguration configuration, string section)
        where TOptions : class, new()
        where TValidator : IValidateOptions<TOptions>, new()
    {
        TOptions options = configuration.GetSection(section).Get<TOptions>() ?? new TOptions();
        ValidateOptionsResult result = new TValidator().Validate(section, options);
        return result.Failed ? throw new OptionsValidationException(section, typeof(TOptions), result.Failures) : options;
    }
}

[OptionsValidator]
internal sealed partial class PreprocessingOptionsValidator : IValidateOptions<PreprocessingOptions>;

[OptionsValidator]
internal sealed partial class DecodeSandboxOptionsValidator : IValidateOptions<DecodeSandboxOptions>;

[OptionsValidator]
internal sealed partial class AuthorOptionsValidator : IValidateOptions<AuthorOptions>;

[OptionsValidator]
internal sealed partial class InferenceOptionsValidator : IValidateOptions<InferenceOptions>;

[OptionsValidator]
internal sealed partial class SiloOptionsValidator : IValidateOptions<SiloOptions>;

[OptionsValidator]
internal sealed partial class LoggingOptionsValidator : IValidateOptions<LoggingOptions>;

[OptionsValidator]
internal sealed partial class BusOptionsValidator : IValidateOptions<BusOptions>;

[OptionsValidator]
internal sealed partial class ResultCacheOptionsValidator : IValidateOptions<ResultCacheOptions>;

[OptionsValidator]
internal sealed partial class UrlFetchOptionsValidator : IValidateOptions<UrlFetchOptions>;

[OptionsValidator]
internal sealed partial class ImageStoreOptionsValidator : IValidateOptions<ImageStoreOptions>;

[OptionsValidator]
internal sealed partial class WebhookOptionsValidator : IValidateOptions<WebhookOptions>;
