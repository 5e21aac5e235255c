using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ArtGrid.Hosting.Images;

public static class ImageSourcesServiceCollectionExtensions
{
    /// <summary>
    /// The image sources besides uploaded bytes: <see cref="UrlImageFetcher"/> (options from "ArtGrid:UrlFetch")
    /// and <see cref="FileImageStore"/> (options from "ArtGrid:ImageStore"). Both are off until configured.
    /// </summary>
    public static IServiceCollection AddArtGridImageSources(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddArtGridSection<UrlFetchOptions, UrlFetchOptionsValidator>(UrlFetchOptions.SectionName);
        services.AddArtGridSection<ImageStoreOptions, ImageStoreOptionsValidator>(ImageStoreOptions.SectionName);
        services.TryAddSingleton<UrlImageFetcher>();
        services.TryAddSingleton<FileImageStore>();
        return services;
    }
}
