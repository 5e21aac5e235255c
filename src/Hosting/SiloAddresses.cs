using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace ArtGrid.Hosting;

/// <summary>
/// Where a silo is reached and where it listens, settled once at start from <see cref="SiloOptions"/>.
/// <list type="bullet">
/// <item><see cref="Advertised"/>: what the membership table tells other silos and clients. "AdvertisedAddress" when
/// set; else, under Kubernetes hosting, the pod's IP (POD_IP); else the address of this machine's interface that
/// routes to the Redis server every silo and client shares (<see cref="RouteTo"/>): 127.0.0.1 when Redis is on
/// loopback, the address on the cluster's network when it is on another host. A silo never advertises loopback to a
/// cluster whose Redis it reaches over a network.</item>
/// <item><see cref="Listen"/>: where the silo and client gateway ports bind. "ListenAddress", else every interface
/// under Kubernetes hosting, else the advertised address alone.</item>
/// <item><see cref="Http"/>: the operations listener (<c>/health/*</c>, <c>/metrics</c>). "HttpAddress", else
/// <see cref="Listen"/>.</item>
/// </list>
/// </summary>
public sealed record SiloAddresses(IPAddress Advertised, IPAddress Listen, IPAddress Http)
{
    /// <summary>The pod's IP, set from the downward API (<c>status.podIP</c>) in the silo's pod spec.</summary>
    public const string PodIpVariable = "POD_IP";

    /// <summary>The addresses of a silo; <paramref name="discover"/> runs only when nothing configured names one.</summary>
    public static SiloAddresses Of(SiloOptions silo, Func<IPAddress> discover)
    {
        IPAddress advertised = Configured(silo.AdvertisedAddress)
            ?? (silo.Kubernetes ? Configured(Environment.GetEnvironmentVariable(PodIpVariable)) : null)
            ?? discover();
        IPAddress listen = Configured(silo.ListenAddress) ?? (silo.Kubernetes ? IPAddress.Any : advertised);
        return new SiloAddresses(advertised, listen, Configured(silo.HttpAddress) ?? listen);
    }

    /// <summary>
    /// The addresses of a silo in <paramref name="mode"/>: an embedded silo stays on loopback unless configured; a
    /// cluster silo finds its way to the Redis server of "ConnectionStrings:Redis".
    /// </summary>
    public static SiloAddresses Of(SiloOptions silo, SiloMode mode, IConfiguration configuration) =>
        Of(silo, mode == SiloMode.Cluster ? () => RouteTo(RedisServer(configuration)) : () => IPAddress.Loopback);

    /// <summary>
    /// The local address this machine sends from to reach <paramref name="server"/>: the source address of the route
    /// the kernel picks (a UDP socket is connected, which sends nothing). Host names are resolved first.
    /// </summary>
    public static IPAddress RouteTo(EndPoint server)
    {
        (IPAddress remote, int port) = server switch
        {
            IPEndPoint ip => (ip.Address, ip.Port),
            DnsEndPoint dns => (Resolve(dns.Host), dns.Port),
            _ => throw new InvalidOperationException($"Cannot find a route to {server}: not an IP address or host name."),
        };
        if (IPAddress.IsLoopback(remote))
        {
            return remote.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        }

        try
        {
            using var socket = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(remote, port == 0 ? 6379 : port);
            return ((IPEndPoint)socket.LocalEndPoint!).Address;
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException(
                $"No route from this machine to {remote} (the Redis server) to take the silo's address from ({ex.SocketErrorCode}). " +
                "Set ArtGrid:Silo:AdvertisedAddress to the address other silos reach this one at.", ex);
        }
    }

    private static EndPoint RedisServer(IConfiguration configuration)
    {
        string connection = configuration.GetConnectionString("Redis")
            ?? throw new InvalidOperationException("ConnectionStrings:Redis is not set.");
        return ConfigurationOptions.Parse(connection).EndPoints.FirstOrDefault()
            ?? throw new InvalidOperationException("ConnectionStrings:Redis names no server.");
    }

    private static IPAddress Resolve(string host)
    {
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host);
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException(
                $"The Redis host '{host}' does not resolve ({ex.SocketErrorCode}), so the silo cannot tell which of its addresses " +
                "the cluster reaches. Set ArtGrid:Silo:AdvertisedAddress, or fix the name.", ex);
        }

        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException($"The Redis host '{host}' resolves to no address.");
    }

    private static IPAddress? Configured(string? text) => string.IsNullOrWhiteSpace(text) ? null : IPAddress.Parse(text);
}
