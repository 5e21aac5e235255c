using System.Security.Cryptography;

namespace ArtGrid;

/// <summary>
/// An image's content hash as ArtGrid names it everywhere: the SHA-256 of its bytes in lower-case hex. The result cache
/// is keyed by it, <see cref="ImageScore.Sha256"/> carries it, and a producer that sends an image by its hash alone
/// (<c>ImageReference.Sha256</c>) must compute it the same way.
/// </summary>
public static class ContentHash
{
    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
