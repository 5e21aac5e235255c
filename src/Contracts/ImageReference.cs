using MassTransit;

namespace ArtGrid.Contracts;

/// <summary>
/// Where one image's bytes are: exactly one of <see cref="Data"/> (claim check: the bytes sit in the message data
/// repository, or inline when small), <see cref="Url"/> (http/https, fetched only where URL fetching is switched on),
/// <see cref="Key"/> (a path in the silo's configured image store) or <see cref="Sha256"/> (no bytes at all: a re-upload
/// answered from the result cache).
/// </summary>
public sealed record ImageReference
{
    /// <summary>A name for results and logs (a file name, say); not used to find the bytes.</summary>
    public required string Name { get; init; }

    public MessageData<byte[]>? Data { get; init; }

    public Uri? Url { get; init; }

    public string? Key { get; init; }

    /// <summary>
    /// The SHA-256 of the image's bytes, 64 hex digits: the image named by its content alone, for a re-upload that the
    /// cluster has scored before. The result cache answers it for the job's model version; when the cache does not
    /// hold it, the job is rejected with <see cref="RejectionCodes.NotCached"/> (its <c>ImageIndex</c> the first such
    /// image) and nothing of it is recorded, so that the producer sends the same job again with the bytes.
    /// </summary>
    public string? Sha256 { get; init; }
}
