using System.Net;
using System.Net.Sockets;

namespace ArtGrid.Hosting.Http;

/// <summary>
/// Where ArtGrid may send HTTP requests whose URLs come from untrusted callers (image URLs, webhook callbacks): http or
/// https only, to hosts on an allow-list, and (unless <see cref="AllowPrivateNetworks"/>) only to public addresses.
/// One policy type for every outbound path, so that URL fetching and webhooks cannot drift apart in what they refuse.
/// </summary>
/// <param name="AllowedHosts">
/// Host names compared case-insensitively (a trailing dot ignored); "*.example.com" allows every subdomain of
/// example.com at any depth (not example.com itself); IP literals match only an equal address. Empty allows no host.
/// </param>
/// <param name="AllowPrivateNetworks">Lets connections reach loopback, private, link-local and other non-public addresses.</param>
public sealed record OutboundPolicy(IReadOnlyList<string> AllowedHosts, bool AllowPrivateNetworks)
{
    /// <summary>Why <paramref name="url"/> may not be requested under this policy (scheme, host), or null when it may.</summary>
    public string? CheckUrl(Uri url, string allowListSetting)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!IsHttpUrl(url))
        {
            string scheme = url.IsAbsoluteUri ? url.Scheme : "(relative)";
            return $"only http and https URLs are allowed, not {scheme}";
        }

        string host;
        try
        {
            host = url.IdnHost;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or UriFormatException)
        {
            return "the URL's host name is not valid";
        }

        return IsHostAllowed(host, AllowedHosts) ? null : $"host '{host}' is not on {allowListSetting}";
    }

    /// <summary>True for an absolute http or https URL.</summary>
    public static bool IsHttpUrl(Uri url) =>
        url.IsAbsoluteUri && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);

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
}
