using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
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
/// The address check runs in the connect callback, on the addresses this fetcher resolved and then connects to,
/// so a host whose DNS answer changes between a check and the connection (DNS rebinding) gains nothing.
/// Proxies are not used: through a proxy the check would apply to the proxy, not to the target.
/// Requests are pinned to HTTP/1.1: HTTP/3 would open QUIC connections that bypass the connect callback.
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

        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
        _client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
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
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException)
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

    /// <summary>
    /// True when <paramref name="address"/> is an ordinary public unicast address. False for loopback, private
    /// (RFC 1918, fc00::/7), link-local (169.254/16 with cloud metadata, fe80::/10), unspecified, "this network"
    /// 0/8, CGNAT 100.64/10, benchmarking, multicast, broadcast and reserved ranges, for IPv6 outside 2000::/3,
    /// and for IPv4 addresses embedded in IPv6 (mapped, NAT64, 6to4) that are themselves not public.
    /// </summary>
    public static bool IsPublicAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written))
        {
            return false;
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork when written == 4 => IsPublicIPv4(bytes[..4]),
            AddressFamily.InterNetworkV6 when written == 16 => IsPublicIPv6(bytes),
            _ => false,
        };
    }

    /// <summary>
    /// True when <paramref name="host"/> matches an entry of <paramref name="allowedHosts"/>: equal ignoring case
    /// (and a trailing dot), or, for an entry "*.example.com", a subdomain of example.com at any depth.
    /// IP literals (IPv6 with or without brackets) match only an equal address, never a wildcard.
    /// </summary>
    public static bool IsHostAllowed(string host, IEnumerable<string> allowedHosts)
    {
        ArgumentNullException.ThrowIfNull(allowedHosts);
        string candidate = NormalizeHost(host);
        if (candidate.Length == 0)
        {
            return false;
        }

        IPAddress? candidateAddress = IPAddress.TryParse(candidate, out IPAddress? parsed) ? parsed : null;
        foreach (string entry in allowedHosts)
        {
            if (string.IsNullOrWhiteSpace(entry))
            {
                continue;
            }

            string pattern = NormalizeHost(entry);
            if (candidateAddress is not null)
            {
                if (IPAddress.TryParse(pattern, out IPAddress? allowedAddress) && allowedAddress.Equals(candidateAddress))
                {
                    return true;
                }

                continue;
            }

            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                string suffix = pattern[1..];
                if (suffix.Length > 1 && candidate.Length > suffix.Length && candidate.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
            else if (string.Equals(candidate, pattern, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

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

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        DnsEndPoint endpoint = context.DnsEndPoint;
        IPAddress[] resolved = IPAddress.TryParse(endpoint.Host, out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);

        IPAddress[] allowed = _options.AllowPrivateNetworks ? resolved : [.. resolved.Where(IsPublicAddress)];
        if (allowed.Length == 0)
        {
            string addresses = string.Join(", ", resolved.Select(a => a.ToString()));
            LogAddressRefused(endpoint.Host, addresses);
            throw new ImageUnavailableException(
                ImageSourceErrors.AddressNotAllowed,
                permanent: true,
                $"Host '{endpoint.Host}' resolves only to addresses that are not public ({addresses}).");
        }

        Exception? lastError = null;
        foreach (IPAddress candidate in allowed)
        {
            IPAddress address = candidate.IsIPv4MappedToIPv6 ? candidate.MapToIPv4() : candidate;
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                lastError = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        ExceptionDispatchInfo.Throw(lastError!);
        throw new UnreachableException();
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

    private static bool IsPublicIPv4(ReadOnlySpan<byte> b) =>
        !(b[0] == 0                                 // 0.0.0.0/8: "this network", includes the unspecified address
          || b[0] == 10                             // 10.0.0.0/8: private
          || (b[0] == 100 && (b[1] & 0xC0) == 64)   // 100.64.0.0/10: carrier-grade NAT
          || b[0] == 127                            // 127.0.0.0/8: loopback
          || (b[0] == 169 && b[1] == 254)           // 169.254.0.0/16: link-local, cloud metadata endpoints
          || (b[0] == 172 && (b[1] & 0xF0) == 16)   // 172.16.0.0/12: private
          || (b[0] == 192 && b[1] == 0 && b[2] == 0) // 192.0.0.0/24: IETF protocol assignments
          || (b[0] == 192 && b[1] == 168)           // 192.168.0.0/16: private
          || (b[0] == 198 && (b[1] & 0xFE) == 18)   // 198.18.0.0/15: benchmarking
          || b[0] >= 224);                          // multicast 224/4, reserved 240/4, broadcast

    private static bool IsPublicIPv6(ReadOnlySpan<byte> b)
    {
        // 64:ff9b::/96 (NAT64) carries an IPv4 address in its last 32 bits.
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..12].IndexOfAnyExcept((byte)0) < 0)
        {
            return IsPublicIPv4(b[12..16]);
        }

        // Public unicast is 2000::/3. Everything else is unspecified, loopback, IPv4-compatible, unique-local
        // (fc00::/7), link-local (fe80::/10), site-local, multicast (ff00::/8) or reserved.
        if ((b[0] & 0xE0) != 0x20)
        {
            return false;
        }

        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
        {
            return false; // 2001::/32: Teredo
        }

        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8)
        {
            return false; // 2001:db8::/32: documentation
        }

        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return IsPublicIPv4(b[2..6]); // 2002::/16: 6to4 carries an IPv4 address in bits 16..48
        }

        return true;
    }

    private static string NormalizeHost(string host)
    {
        string trimmed = (host ?? string.Empty).Trim();
        if (trimmed.Length > 1 && trimmed[0] == '[' && trimmed[^1] == ']')
        {
            trimmed = trimmed[1..^1];
        }

        return trimmed.TrimEnd('.');
    }

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

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Refused to connect to {Host}: it resolves to {Addresses}")]
    private partial void LogAddressRefused(string host, string addresses);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Image fetch from {Host} failed with {Code} (permanent: {Permanent}): {Reason}")]
    private partial void LogUnavailable(string host, string code, bool permanent, string reason);
}
