using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ArtGrid.Hosting.Http;

/// <summary>
/// The one HTTP handler for requests to URLs that untrusted callers choose (image URLs, webhook callbacks), enforcing an
/// <see cref="OutboundPolicy"/> on every request: http/https to an allowed host only, connections only to public
/// addresses unless the policy allows private networks, no proxy, no cookies, no automatic redirects (a caller that
/// follows one must check the target itself), HTTP/1.1 at most.
/// </summary>
/// <remarks>
/// The address check runs in the connect callback, on the addresses this handler resolved and then connects to, so a
/// host whose DNS answer changes between a check and the connection (DNS rebinding) gains nothing. Proxies are not used:
/// through a proxy the check would apply to the proxy, not to the target. Requests are pinned to HTTP/1.1: HTTP/3 would
/// open QUIC connections that bypass the connect callback. Refusals surface as <see cref="OutboundRequestRefusedException"/>
/// (from the connect callback, wrapped in an <see cref="HttpRequestException"/>; see <see cref="FindRefusal"/>).
/// </remarks>
public sealed partial class GuardedHttpHandler : DelegatingHandler
{
    private readonly OutboundPolicy _policy;
    private readonly string _allowListSetting;
    private readonly ILogger _logger;

    private GuardedHttpHandler(OutboundPolicy policy, string allowListSetting, ILogger logger)
    {
        _policy = policy;
        _allowListSetting = allowListSetting;
        _logger = logger;
        InnerHandler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
    }

    /// <summary>
    /// A handler enforcing <paramref name="policy"/>; <paramref name="allowListSetting"/> names the setting that holds
    /// the allow-list, for refusal messages.
    /// </summary>
    public static HttpMessageHandler Create(OutboundPolicy policy, string allowListSetting, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new GuardedHttpHandler(policy, allowListSetting, logger ?? NullLogger.Instance);
    }

    /// <summary>
    /// A client over <see cref="Create"/>, with no timeout of its own (callers bound each operation with a token) and
    /// HTTP/1.1 as its default version.
    /// </summary>
    public static HttpClient CreateClient(OutboundPolicy policy, string allowListSetting, ILogger? logger = null) =>
        new(Create(policy, allowListSetting, logger), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

    /// <summary>The policy refusal in <paramref name="error"/> or its inner exceptions, if there is one.</summary>
    public static OutboundRequestRefusedException? FindRefusal(Exception? error)
    {
        for (Exception? inner = error; inner is not null; inner = inner.InnerException)
        {
            if (inner is OutboundRequestRefusedException refusal)
            {
                return refusal;
            }
        }

        return null;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Uri url = request.RequestUri ?? throw new OutboundRequestRefusedException(OutboundRefusal.BadUrl, "The request has no URL.");
        if (_policy.CheckUrl(url, _allowListSetting) is { } problem)
        {
            string code = OutboundPolicy.IsHttpUrl(url) ? OutboundRefusal.HostNotAllowed : OutboundRefusal.BadUrl;
            throw new OutboundRequestRefusedException(code, char.ToUpperInvariant(problem[0]) + problem[1..] + ".");
        }

        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        return base.SendAsync(request, cancellationToken);
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        DnsEndPoint endpoint = context.DnsEndPoint;
        IPAddress[] resolved = IPAddress.TryParse(endpoint.Host, out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);

        IPAddress[] allowed = _policy.AllowPrivateNetworks ? resolved : [.. resolved.Where(OutboundPolicy.IsPublicAddress)];
        if (allowed.Length == 0)
        {
            string addresses = string.Join(", ", resolved.Select(a => a.ToString()));
            LogAddressRefused(_logger, endpoint.Host, addresses);
            throw new OutboundRequestRefusedException(
                OutboundRefusal.AddressNotAllowed,
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

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Refused to connect to {Host}: it resolves to {Addresses}")]
    private static partial void LogAddressRefused(ILogger logger, string host, string addresses);
}

/// <summary>The reasons an <see cref="OutboundRequestRefusedException"/> gives.</summary>
public static class OutboundRefusal
{
    /// <summary>Not an absolute http or https URL.</summary>
    public const string BadUrl = "bad_url";

    /// <summary>The URL's host is not on the allow-list.</summary>
    public const string HostNotAllowed = "host_not_allowed";

    /// <summary>The host resolves only to addresses the policy does not allow (loopback, private, link-local...).</summary>
    public const string AddressNotAllowed = "address_not_allowed";
}

/// <summary>
/// A request the <see cref="OutboundPolicy"/> refused, before any byte was sent to the target. Retrying the same URL
/// under the same policy cannot help.
/// </summary>
public sealed class OutboundRequestRefusedException(string code, string message) : Exception(message)
{
    /// <summary>One of <see cref="OutboundRefusal"/>.</summary>
    public string Code { get; } = code;
}
