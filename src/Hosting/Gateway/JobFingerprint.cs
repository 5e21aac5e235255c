using System.Security.Cryptography;
using System.Text;

namespace ArtGrid.Hosting.Gateway;

/// <summary>What a job's images are, in one value: a job id posted again is the same job only when this is equal.</summary>
public static class JobFingerprint
{
    /// <summary>The SHA-256 over each image's name and content (the SHA-256 of its bytes, or its URL), in order.</summary>
    public static string Of(IncomingJob job)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (IncomingImage image in job.Images)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(image.Name));
            hash.AppendData([0]);
            hash.AppendData(image.Bytes is { } bytes ? SHA256.HashData(bytes) : Encoding.UTF8.GetBytes(image.Url!.AbsoluteUri));
            hash.AppendData([0]);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
