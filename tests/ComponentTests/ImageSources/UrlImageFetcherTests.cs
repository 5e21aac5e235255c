using System.Diagnostics;
using ArtGrid.Hosting.Images;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.ImageSources;

/// <summary>The fetcher against a real HTTP server on the loopback interface, serving a real sample image.</summary>
public sealed class UrlImageFetcherTests : IAsyncLifetime
{
    private static readonly string ImagePath =
        Directory.EnumerateFiles(Path.Combine(TestAssets.SamplesDir, "ai"), "*.jpg").Order(StringComparer.Ordinal).First();

    private readonly byte[] _image = File.ReadAllBytes(ImagePath);
    private LocalHttpServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new LocalHttpServer(_image);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static UrlImageFetcher Fetcher(
        bool enabled = true,
        string[]? allowedHosts = null,
        bool allowPrivateNetworks = true,
        int maxBytes = 64 * 1024 * 1024,
        double timeoutSeconds = 10,
        int maxRedirects = 3) =>
        new(Options.Create(new UrlFetchOptions
        {
            Enabled = enabled,
            AllowedHosts = allowedHosts ?? ["127.0.0.1"],
            AllowPrivateNetworks = allowPrivateNetworks,
            MaxBytes = maxBytes,
            TimeoutSeconds = timeoutSeconds,
            MaxRedirects = maxRedirects,
        }));

    private static async Task<ImageUnavailableException> Unavailable(UrlImageFetcher fetcher, Uri url) =>
        await Assert.ThrowsAsync<ImageUnavailableException>(() => fetcher.FetchAsync(url));

    [Fact]
    public async Task ReturnsTheServedFileByteForByte()
    {
        using UrlImageFetcher fetcher = Fetcher();

        byte[] bytes = await fetcher.FetchAsync(_server.Url("/image.jpg"));

        Assert.True(_image.Length > 1000);
        Assert.Equal(_image, bytes);
    }

    [Fact]
    public async Task ReturnsAChunkedBodyWithoutContentLength()
    {
        using UrlImageFetcher fetcher = Fetcher();

        Assert.Equal(_image, await fetcher.FetchAsync(_server.Url("/chunked-image.jpg")));
    }

    [Fact]
    public async Task ResolvesHostNamesItselfAndTriesEachAddress()
    {
        // "localhost" resolves to ::1 as well as 127.0.0.1 on most systems; the server listens on IPv4 only.
        using UrlImageFetcher fetcher = Fetcher(allowedHosts: ["localhost"]);

        Assert.Equal(_image, await fetcher.FetchAsync(_server.Url("/image.jpg", host: "localhost")));
    }

    [Fact]
    public async Task ReturnsAnEmptyBodyAsIs()
    {
        using UrlImageFetcher fetcher = Fetcher();

        Assert.Empty(await fetcher.FetchAsync(_server.Url("/empty")));
    }

    [Fact]
    public async Task DisabledFetcherRefusesWithoutConnecting()
    {
        using UrlImageFetcher fetcher = Fetcher(enabled: false);

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/image.jpg"));

        Assert.Equal(ImageSourceErrors.UrlDisabled, error.Code);
        Assert.True(error.Permanent);
        Assert.Equal(0, _server.Connections);
    }

    [Fact]
    public async Task HostOutsideTheAllowListIsRefusedWithoutConnecting()
    {
        using UrlImageFetcher fetcher = Fetcher(allowedHosts: ["images.example.com", "*.example.org"]);

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/image.jpg"));

        Assert.Equal(ImageSourceErrors.HostNotAllowed, error.Code);
        Assert.True(error.Permanent);
        Assert.Equal(0, _server.Connections);
    }

    [Fact]
    public async Task EmptyAllowListAllowsNoHost()
    {
        using UrlImageFetcher fetcher = Fetcher(allowedHosts: []);

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/image.jpg"));

        Assert.Equal(ImageSourceErrors.HostNotAllowed, error.Code);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task AllowedHostOnALoopbackAddressIsRefusedAtConnectTime(string host)
    {
        // The host passes the allow-list; only the check on the resolved address stops it.
        using UrlImageFetcher fetcher = Fetcher(allowedHosts: [host], allowPrivateNetworks: false);

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/image.jpg", host));

        Assert.Equal(ImageSourceErrors.AddressNotAllowed, error.Code);
        Assert.True(error.Permanent);
        Assert.Equal(0, _server.Connections);
    }

    [Theory]
    [InlineData("/missing", ImageSourceErrors.NotFound, true)]
    [InlineData("/gone", ImageSourceErrors.NotFound, true)]
    [InlineData("/forbidden", ImageSourceErrors.FetchFailed, true)]
    [InlineData("/too-many-requests", ImageSourceErrors.FetchFailed, false)]
    [InlineData("/unavailable", ImageSourceErrors.FetchFailed, false)]
    public async Task HttpErrorStatusesMapToCodes(string path, string code, bool permanent)
    {
        using UrlImageFetcher fetcher = Fetcher();

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url(path));

        Assert.Equal(code, error.Code);
        Assert.Equal(permanent, error.Permanent);
    }

    [Fact]
    public async Task BodyLargerThanTheLimitWithoutContentLengthIsTooLarge()
    {
        using UrlImageFetcher fetcher = Fetcher(maxBytes: 1000);

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/chunked-large"));

        Assert.Equal(ImageSourceErrors.TooLarge, error.Code);
        Assert.True(error.Permanent);
    }

    [Fact]
    public async Task LimitAppliesToTheRealImageToo()
    {
        using UrlImageFetcher fetcher = Fetcher(maxBytes: _image.Length - 1);

        Assert.Equal(ImageSourceErrors.TooLarge, (await Unavailable(fetcher, _server.Url("/chunked-image.jpg"))).Code);
        Assert.Equal(ImageSourceErrors.TooLarge, (await Unavailable(fetcher, _server.Url("/image.jpg"))).Code);
    }

    [Fact]
    public async Task ImageOfExactlyTheLimitIsAccepted()
    {
        using UrlImageFetcher fetcher = Fetcher(maxBytes: _image.Length);

        Assert.Equal(_image, await fetcher.FetchAsync(_server.Url("/chunked-image.jpg")));
    }

    [Fact]
    public async Task AnnouncedLengthAboveTheLimitIsRefusedBeforeTheBody()
    {
        // The server announces 1 GiB and then stalls; waiting for the body would end in a timeout instead.
        using UrlImageFetcher fetcher = Fetcher(maxBytes: 1000, timeoutSeconds: 60);

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/declared-large"));

        Assert.Equal(ImageSourceErrors.TooLarge, error.Code);
    }

    [Theory]
    [InlineData("/slow-headers")]
    [InlineData("/slow-body")]
    public async Task StalledServerFailsTransientlyAfterTheTimeout(string path)
    {
        using UrlImageFetcher fetcher = Fetcher(timeoutSeconds: 0.5);
        Stopwatch clock = Stopwatch.StartNew();

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url(path));

        Assert.Equal(ImageSourceErrors.FetchFailed, error.Code);
        Assert.False(error.Permanent);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task CallerCancellationPropagatesAsCancellation()
    {
        using UrlImageFetcher fetcher = Fetcher(timeoutSeconds: 60);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetcher.FetchAsync(_server.Url("/slow-body"), cancel.Token));
    }

    [Fact]
    public async Task FollowsARelativeRedirect()
    {
        using UrlImageFetcher fetcher = Fetcher();

        Assert.Equal(_image, await fetcher.FetchAsync(_server.Url("/redirect")));
        Assert.Equal(new[] { "/redirect", "/image.jpg" }, _server.Requests);
    }

    [Fact]
    public async Task RedirectToAHostOutsideTheAllowListIsRefused()
    {
        using UrlImageFetcher fetcher = Fetcher(allowedHosts: ["127.0.0.1"]);

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/redirect-to-localhost"));

        Assert.Equal(ImageSourceErrors.HostNotAllowed, error.Code);
        Assert.Equal(new[] { "/redirect-to-localhost" }, _server.Requests);
    }

    [Fact]
    public async Task RedirectToAnotherSchemeIsABadReference()
    {
        using UrlImageFetcher fetcher = Fetcher();

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/redirect-to-ftp"));

        Assert.Equal(ImageSourceErrors.BadReference, error.Code);
    }

    [Fact]
    public async Task StopsAfterMaxRedirects()
    {
        using UrlImageFetcher fetcher = Fetcher(maxRedirects: 2);

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/redirect-loop"));

        Assert.Equal(ImageSourceErrors.FetchFailed, error.Code);
        Assert.True(error.Permanent);
        Assert.Equal(3, _server.Requests.Count);
    }

    [Fact]
    public async Task NoRedirectsWhenMaxRedirectsIsZero()
    {
        using UrlImageFetcher fetcher = Fetcher(maxRedirects: 0);

        ImageUnavailableException error = await Unavailable(fetcher, _server.Url("/redirect"));

        Assert.Equal(ImageSourceErrors.FetchFailed, error.Code);
        Assert.Equal(new[] { "/redirect" }, _server.Requests);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://127.0.0.1/image.jpg")]
    [InlineData("gopher://127.0.0.1/")]
    public async Task SchemesOtherThanHttpAreBadReferences(string url)
    {
        using UrlImageFetcher fetcher = Fetcher();

        ImageUnavailableException error = await Unavailable(fetcher, new Uri(url));

        Assert.Equal(ImageSourceErrors.BadReference, error.Code);
        Assert.True(error.Permanent);
    }

    [Fact]
    public async Task RelativeUrlIsABadReference()
    {
        using UrlImageFetcher fetcher = Fetcher();

        ImageUnavailableException error = await Unavailable(fetcher, new Uri("/image.jpg", UriKind.Relative));

        Assert.Equal(ImageSourceErrors.BadReference, error.Code);
    }
}
