using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using ArtGrid.Hosting;

namespace ArtGrid.Tests.Hosting;

/// <summary>A silo finds the address it advertises from the route to Redis: loopback only when Redis is on loopback.</summary>
public sealed class SiloAddressesTests
{
    [Fact]
    public void RedisOnLoopback_TheSiloAdvertisesLoopback()
    {
        Assert.Equal(IPAddress.Loopback, SiloAddresses.RouteTo(new IPEndPoint(IPAddress.Parse("127.0.0.1"), 6379)));
        Assert.Equal(IPAddress.Loopback, SiloAddresses.RouteTo(new DnsEndPoint("localhost", 6379)));
    }

    [Fact]
    public void RedisOnAnotherAddressOfThisMachine_TheSiloAdvertisesThatInterfacesAddress()
    {
        IPAddress[] own = [.. NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(u => u.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))];
        Assert.NotEmpty(own); // every machine these tests run on has a network interface besides loopback

        foreach (IPAddress address in own)
        {
            Assert.Equal(address, SiloAddresses.RouteTo(new IPEndPoint(address, 6379)));
        }
    }

    [Fact]
    public void AnUnresolvableRedisHost_IsAClearErrorNamingTheSetting()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => SiloAddresses.RouteTo(new DnsEndPoint("redis.invalid", 6379)));

        Assert.Contains("ArtGrid:Silo:AdvertisedAddress", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnderKubernetesHosting_TheSiloListensEverywhere_AndDiscoversNothingWhenConfigured()
    {
        var silo = new SiloOptions { Kubernetes = true, AdvertisedAddress = "10.1.2.3" };

        SiloAddresses addresses = SiloAddresses.Of(silo, () => throw new InvalidOperationException("not asked"));

        Assert.Equal(new SiloAddresses(IPAddress.Parse("10.1.2.3"), IPAddress.Any, IPAddress.Any), addresses);
    }
}
