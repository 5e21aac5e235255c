using System.Net;
using ArtGrid.Hosting.Images;

namespace ArtGrid.Tests.ImageSources;

public sealed class AddressPolicyTests
{
    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("1.1.1.1", true)]
    [InlineData("2606:4700::1111", true)]
    [InlineData("172.32.0.1", true)]
    [InlineData("172.15.255.255", true)]
    [InlineData("100.128.0.1", true)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.255.0.9", false)]
    [InlineData("::1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("100.127.255.255", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fc00::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:169.254.169.254", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("64:ff9b::a9fe:a9fe", false)]
    [InlineData("64:ff9b::808:808", true)]
    [InlineData("2002:7f00:1::1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("224.0.0.1", false)]
    public void IsPublicAddressClassifiesTheAddress(string address, bool expected)
    {
        Assert.Equal(expected, UrlImageFetcher.IsPublicAddress(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("images.example.com", true, "images.example.com")]
    [InlineData("IMAGES.Example.COM", true, "images.example.com")]
    [InlineData("images.example.com.", true, "images.example.com")]
    [InlineData("cdn.example.com", true, "*.example.com")]
    [InlineData("a.b.example.com", true, "*.example.com")]
    [InlineData("example.com", false, "*.example.com")]
    [InlineData("badexample.com", false, "*.example.com")]
    [InlineData("example.com.evil.net", false, "example.com")]
    [InlineData("evil.net", false, "other.org", "*.example.com")]
    [InlineData("127.0.0.1", true, "127.0.0.1")]
    [InlineData("127.0.0.1", false, "*.0.0.1")]
    [InlineData("::1", true, "[::1]")]
    [InlineData("anything.example.com", false)]
    public void IsHostAllowedMatchesExactNamesAndSubdomainWildcards(string host, bool expected, params string[] allowed)
    {
        Assert.Equal(expected, UrlImageFetcher.IsHostAllowed(host, allowed));
    }
}
