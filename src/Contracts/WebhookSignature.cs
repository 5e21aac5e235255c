using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ArtGrid.Contracts;

/// <summary>
/// Signs and verifies ArtGrid's webhook requests, so that a receiver can tell a callback ArtGrid sent from one anybody
/// could post to its URL, and a fresh one from a replay. The header (<see cref="HeaderName"/>) reads
/// <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;." + body bytes)&gt;</c>, as Stripe's does: the
/// timestamp is signed with the body, so an old request cannot be replayed with a new time. Several <c>v1</c> entries
/// may appear (one per secret while a secret is being rotated); one matching is enough. Depends on nothing but the
/// base library, so receivers written in .NET can reference this assembly alone.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The request header that carries the signature.</summary>
    public const string HeaderName = "ArtGrid-Signature";

    /// <summary>The request header that names the delivery ("&lt;job id&gt;:&lt;type&gt;"), the same on every attempt, for receivers to deduplicate on.</summary>
    public const string IdHeaderName = "ArtGrid-Webhook-Id";

    /// <summary>How stale a signature <see cref="Verify"/> should accept, unless the receiver knows better: five minutes.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>The header value for <paramref name="body"/> sent at <paramref name="unixSeconds"/>, signed with <paramref name="secret"/>.</summary>
    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body) => Sign([secret], unixSeconds, body);

    /// <summary>The header value with one <c>v1</c> entry per secret, in order (the current secret first, then those being retired).</summary>
    public static string Sign(IReadOnlyList<string> secrets, long unixSeconds, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (secrets.Count == 0)
        {
            throw new ArgumentException("At least one secret is needed.", nameof(secrets));
        }

        var header = new StringBuilder("t=").Append(unixSeconds.ToString(CultureInfo.InvariantCulture));
        foreach (string secret in secrets)
        {
            header.Append(",v1=").Append(Convert.ToHexStringLower(Mac(secret, unixSeconds, body)));
        }

        return header.ToString();
    }

    /// <summary>
    /// True when <paramref name="header"/> holds a timestamp within <paramref name="tolerance"/> of
    /// <paramref name="now"/> (either side) and at least one <c>v1</c> signature of that timestamp and
    /// <paramref name="body"/> under <paramref name="secret"/>. Signatures are compared in constant time. Anything
    /// malformed (no timestamp, two timestamps, no v1, bad hex) is false, never an exception.
    /// </summary>
    public static bool Verify(string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (string.IsNullOrEmpty(header) || tolerance < TimeSpan.Zero)
        {
            return false;
        }

        long? timestamp = null;
        var signatures = new List<byte[]>();
        foreach (string part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            string key = part[..equals];
            string value = part[(equals + 1)..];
            if (key == "t")
            {
                if (timestamp is not null || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long t))
                {
                    return false;
                }

                timestamp = t;
            }
            else if (key == "v1" && value.Length == 64 && TryFromHex(value, out byte[] signature))
            {
                signatures.Add(signature);
            }
        }

        if (timestamp is not { } seconds || signatures.Count == 0)
        {
            return false;
        }

        long age = now.ToUnixTimeSeconds() - seconds;
        if (Math.Abs((double)age) > tolerance.TotalSeconds)
        {
            return false;
        }

        byte[] expected = Mac(secret, seconds, body);
        bool any = false;
        foreach (byte[] signature in signatures)
        {
            // Every entry is compared, so the time taken does not tell which one matched.
            any |= CryptographicOperations.FixedTimeEquals(expected, signature);
        }

        return any;
    }

    private static byte[] Mac(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        byte[] prefix = Encoding.UTF8.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(prefix);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static bool TryFromHex(string hex, out byte[] bytes)
    {
        bytes = new byte[hex.Length / 2];
        return Convert.FromHexString(hex, bytes, out _, out int written) == OperationStatus.Done && written == bytes.Length;
    }
}

/// <summary>The <c>type</c> of a webhook body.</summary>
public static class WebhookEventTypes
{
    /// <summary>The job was scored; the body has <c>verdict</c> (as <see cref="ImagesScored.Verdict"/>).</summary>
    public const string JobCompleted = "job.completed";

    /// <summary>The job was refused; the body has <c>rejection</c> (as <see cref="ScoreImagesRejected"/>).</summary>
    public const string JobRejected = "job.rejected";
}
