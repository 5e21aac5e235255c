using ArtGrid.Hosting.Images;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.ImageSources;

public sealed class ImageSourcesRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddArtGridImageSources();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public void DefaultsKeepBothSourcesOff()
    {
        var url = new UrlFetchOptions();
        var store = new ImageStoreOptions();

        Assert.False(url.Enabled);
        Assert.Empty(url.AllowedHosts);
        Assert.False(url.AllowPrivateNetworks);
        Assert.Equal(64 * 1024 * 1024, url.MaxBytes);
        Assert.Equal(10, url.TimeoutSeconds);
        Assert.Equal(3, url.MaxRedirects);
        Assert.Null(store.Root);
        Assert.Equal(64 * 1024 * 1024, store.MaxBytes);
    }

    [Fact]
    public void BindsBothSectionsAndResolvesSingletons()
    {
        using ServiceProvider provider = Build(new()
        {
            ["ArtGrid:UrlFetch:Enabled"] = "true",
            ["ArtGrid:UrlFetch:AllowedHosts:0"] = "images.example.com",
            ["ArtGrid:UrlFetch:AllowedHosts:1"] = "*.cdn.example.com",
            ["ArtGrid:UrlFetch:TimeoutSeconds"] = "2.5",
            ["ArtGrid:UrlFetch:MaxRedirects"] = "1",
            ["ArtGrid:ImageStore:Root"] = "/srv/images",
            ["ArtGrid:ImageStore:MaxBytes"] = "1000",
        });

        UrlFetchOptions url = provider.GetRequiredService<IOptions<UrlFetchOptions>>().Value;
        ImageStoreOptions store = provider.GetRequiredService<IOptions<ImageStoreOptions>>().Value;

        Assert.True(url.Enabled);
        Assert.Equal(new[] { "images.example.com", "*.cdn.example.com" }, url.AllowedHosts);
        Assert.Equal(2.5, url.TimeoutSeconds);
        Assert.Equal(1, url.MaxRedirects);
        Assert.Equal("/srv/images", store.Root);
        Assert.Equal(1000, store.MaxBytes);
        Assert.Same(provider.GetRequiredService<UrlImageFetcher>(), provider.GetRequiredService<UrlImageFetcher>());
        Assert.Same(provider.GetRequiredService<FileImageStore>(), provider.GetRequiredService<FileImageStore>());
    }

    [Theory]
    [InlineData("ArtGrid:UrlFetch:TimeoutSeconds", "0")]
    [InlineData("ArtGrid:UrlFetch:MaxBytes", "0")]
    [InlineData("ArtGrid:UrlFetch:MaxRedirects", "-1")]
    [InlineData("ArtGrid:ImageStore:MaxBytes", "0")]
    public void OutOfRangeSettingsFailValidation(string key, string value)
    {
        using ServiceProvider provider = Build(new() { [key] = value });

        Assert.Throws<OptionsValidationException>(() =>
        {
            _ = provider.GetRequiredService<IOptions<UrlFetchOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<ImageStoreOptions>>().Value;
        });
    }
}
