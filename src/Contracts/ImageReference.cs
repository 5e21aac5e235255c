using MassTransit;

namespace ArtGrid.Contracts;

/// <summary>
/// Where one image's bytes are: exactly one of <see cref="Data"/> (claim check: the bytes sit in the message data
/// repository, or inline when small), <see cref="Url"/> (http/https, fetched only where URL fetching is switched on)
/// or <see cref="Key"/> (a path in the silo's configured image store).
/// </summary>
public sealed record ImageReference
{
    /// <summary>A name for results and logs (a file name, say); not used to find the bytes.</summary>
    public required string Name { get; init; }

    public MessageData<byte[]>? Data { get; init; }

    public Uri? Url { get; init; }

    public string? Key { get; init; }
}
