using System.Diagnostics;
using System.Net;
using ArtGrid.Hosting.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Images;

/// <summary>
/// Downloads images referenced by URL under a policy meant for URLs that come from untrusted callers:
/// http/https only, hosts from an allow-list (checked again on every redirect), no connections to loopback,
/// private, link-local or other non-public addresses, and limits on size and time.
/// </summary>
/// <remarks>
/// The connection policy (public addresses only, checked at connect time; no proxy; HTTP/1.1; no automatic redirects)
/// is <see cref="GuardedHttpHandler"/>'s, shared with webhook delivery; this fetcher follows redirects itself, checking
/// each target against the allow-list before it is requested.
/// </remarks>
public sealed partial class UrlImageFetcher : IDisposable
{
    private readonly UrlFetchOptions _options;
    private readonly string[] _allowedHosts;
    private readonly HttpClient _client;
    private readonly ILogger<UrlImageFetcher> _logger;

    public UrlImageFetcher(IOptions<UrlFetchOptions> options, ILogger<UrlImageFetcher>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _allowedHosts = [.. (_options.AllowedHosts ?? []).Where(h => !string.IsNullOrWhiteSpace(h))];
        _logger = logger ?? NullLogger<UrlImageFetcher>.Instance;

        _client = GuardedHttpHandler.CreateClient(
            new OutboundPolicy(_allowedHosts, _options.AllowPrivateNetworks), $"{UrlFetchOptions.SectionName}:AllowedHosts", _logger);
    }

    /// <summary>
    /// The bytes at <paramref name="url"/>, after following at most MaxRedirects redirects.
    /// An empty body is returned as an empty array.
    /// </summary>
    /// <exception cref="ImageUnavailableException">The policy refused the URL or the fetch failed; see its Code and Permanent.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<byte[]> FetchAsync(Uri url, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!_options.Enabled)
        {
            throw new ImageUnavailableException(
                ImageSourceErrors.UrlDisabled, permanent: true, $"URL references are disabled ({UrlFetchOptions.SectionName}:Enabled is false).");
        }

        cancellationToken.ThrowIfCancellationRequested();
        string host = SafeHost(url);
        long started = Stopwatch.GetTimestamp();
        using CancellationTokenSource timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        try
        {
            byte[] bytes = await FetchCoreAsync(url, timeout.Token).ConfigureAwait(false);
            LogFetched(host, bytes.Length, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return bytes;
        }
        catch (ImageUnavailableException ex)
        {
            LogUnavailable(host, ex.Code, ex.Permanent, ex.Message);
            throw;
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException or OutboundRequestRefusedException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                // The caller gave up: that is not a property of the image, so it is not reported as one.
                if (ex is OperationCanceledException)
                {
                    throw;
                }

                throw new OperationCanceledException("The image fetch was cancelled.", ex, cancellationToken);
            }

            ImageUnavailableException error = Translate(ex, host, timedOut: timeout.IsCancellationRequested);
            LogUnavailable(host, error.Code, error.Permanent, error.Message);
            throw error;
        }
    }

    /// <inheritdoc cref="OutboundPolicy.IsPublicAddress"/>
    public static bool IsPublicAddress(IPAddress address) => OutboundPolicy.IsPublicAddress(address);

    /// <inheritdoc cref="OutboundPolicy.IsHostAllowed"/>
    public static bool IsHostAllowed(string host, IEnumerable<string> allowedHosts) => OutboundPolicy.IsHostAllowed(host, allowedHosts);

    public void Dispose() => _client.Dispose();

    private async Task<byte[]> FetchCoreAsync(Uri url, CancellationToken cancellationToken)
    {
        Uri current = url;
        for (int redirects = 0; ; redirects++)
        {
            CheckReference(current);
            using var request = new HttpRequestMessage(HttpMethod.Get, current)
            {
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            };
            request.Headers.Accept.ParseAdd("image/*");
            request.Headers.Accept.ParseAdd("*/*;q=0.5");

            using HttpResponseMessage response = await _client
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                .ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is >= 200 and <= 299)
            {
                return await ReadBodyAsync(response, SafeHost(current), cancellationToken).ConfigureAwait(false);
            }

            if (status is 300 or 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                if (redirects >= _options.MaxRedirects)
                {
                    throw new ImageUnavailableException(
                        ImageSourceErrors.FetchFailed, permanent: true, $"{SafeHost(url)}: more than {_options.MaxRedirects} redirect(s).");
                }

                Uri next = location.IsAbsoluteUri ? location : new Uri(current, location);
                if (current.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp)
                {
                    throw new ImageUnavailableException(
                        ImageSourceErrors.FetchFailed, permanent: true, $"{SafeHost(current)} redirects from https to http.");
                }

                LogRedirected(SafeHost(current), status, SafeHost(next));
                current = next;
                continue;
            }

            throw StatusError(status, SafeHost(current));
        }
    }

    private void CheckReference(Uri url)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            string scheme = url.IsAbsoluteUri ? url.Scheme : "(relative)";
            throw new ImageUnavailableException(
                ImageSourceErrors.BadReference, permanent: true, $"Only http and https URLs can be fetched, not {scheme}.");
        }

        string host = SafeHost(url);
        if (!IsHostAllowed(host, _allowedHosts))
        {
            throw new ImageUnavailableException(
                ImageSourceErrors.HostNotAllowed, permanent: true, $"Host '{host}' is not on {UrlFetchOptions.SectionName}:AllowedHosts.");
        }
    }

    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, string host, CancellationToken cancellationToken)
    {
        int limit = _options.MaxBytes;
        long? declared = response.Content.Headers.ContentLength;
        if (declared > limit)
        {
            throw TooLarge($"{host} announces {declared} bytes; at most {limit} are allowed.");
        }

        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            return await BoundedRead.ReadAtMostAsync(body, limit, declared ?? 0, cancellationToken).ConfigureAwait(false)
                ?? throw TooLarge($"{host} sends more than the {limit} bytes allowed.");
        }
    }

    private ImageUnavailableException Translate(Exception error, string host, bool timedOut)
    {
        for (Exception? inner = error; inner is not null; inner = inner.InnerException)
        {
            // Refusals raised in the connect callback reach here wrapped in HttpRequestException.
            if (inner is ImageUnavailableException refusal)
            {
                return refusal;
            }
        }

        if (GuardedHttpHandler.FindRefusal(error) is { } refused)
        {
            string code = refused.Code switch
            {
                OutboundRefusal.AddressNotAllowed => ImageSourceErrors.AddressNotAllowed,
                OutboundRefusal.HostNotAllowed => ImageSourceErrors.HostNotAllowed,
                _ => ImageSourceErrors.BadReference,
            };
            return new ImageUnavailableException(code, permanent: true, refused.Message, refused);
        }

        if (timedOut)
        {
            return new ImageUnavailableException(
                ImageSourceErrors.FetchFailed, permanent: false, $"{host}: no complete response within {_options.TimeoutSeconds} s.", error);
        }

        return new ImageUnavailableException(ImageSourceErrors.FetchFailed, permanent: false, $"{host}: {error.Message}", error);
    }

    private static ImageUnavailableException StatusError(int status, string host) => status switch
    {
        404 or 410 => new ImageUnavailableException(ImageSourceErrors.NotFound, permanent: true, $"{host} answered HTTP {status}."),
        408 or 429 or >= 500 and <= 599 => new ImageUnavailableException(ImageSourceErrors.FetchFailed, permanent: false, $"{host} answered HTTP {status}."),
        _ => new ImageUnavailableException(ImageSourceErrors.FetchFailed, permanent: true, $"{host} answered HTTP {status}."),
    };

    private static ImageUnavailableException TooLarge(string message) =>
        new(ImageSourceErrors.TooLarge, permanent: true, message);

    private static string SafeHost(Uri url)
    {
        if (!url.IsAbsoluteUri)
        {
            return string.Empty;
        }

        try
        {
            return url.IdnHost;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or UriFormatException)
        {
            throw new ImageUnavailableException(ImageSourceErrors.BadReference, permanent: true, "The URL's host name is not valid.", ex);
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "Fetched {Bytes} bytes from {Host} in {ElapsedMs:F0} ms")]
    private partial void LogFetched(string host, int bytes, double elapsedMs);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "{Host} redirected (HTTP {Status}) to {Target}")]
    private partial void LogRedirected(string host, int status, string target);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Image fetch from {Host} failed with {Code} (permanent: {Permanent}): {Reason}")]
    private partial void LogUnavailable(string host, string code, bool permanent, string reason);
}
