using System.Security.Cryptography;
using System.Text;

namespace ArtGrid.Hosting.Gateway;

/// <summary>The scopes an API key may hold, each an authorization policy of the same name.</summary>
public static class Scopes
{
    /// <summary>Submit jobs and score images.</summary>
    public const string Score = "score";

    /// <summary>Read jobs, their maps, authors and the model list.</summary>
    public const string Read = "read";

    /// <summary>Record a reviewer's decision on a verdict and export the reviewed items.</summary>
    public const string Review = "review";

    /// <summary>Switch model versions and anything operational; grants every other scope too.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Score, Read, Review, Admin];

    public const string ClaimType = "scope";
}

/// <summary>
/// API keys: "ag_" and 32 random bytes in base64url, given to the caller once; the gateway keeps only their SHA-256
/// (the keys carry 256 bits of entropy, so a fast hash is as safe as a slow one, as for GitHub's tokens).
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "ag_";

    public static string NewKey() => Prefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(HashBytes(key));

    /// <summary>The SHA-256 of a key, as bytes.</summary>
    public static byte[] HashBytes(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The configured key whose hash is <paramref name="hash"/> (SHA-256 bytes), compared in fixed time; null when none is.</summary>
    public static ApiKeyOptions? Find(IEnumerable<ApiKeyOptions> keys, ReadOnlySpan<byte> hash)
    {
        foreach (ApiKeyOptions candidate in keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, Convert.FromHexString(candidate.Hash)))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
