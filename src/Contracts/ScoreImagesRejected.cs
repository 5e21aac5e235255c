using MassTransit;

namespace ArtGrid.Contracts;

/// <summary>Event (and the answer to a request): a job was refused and will not be scored, with the reason.</summary>
public sealed record ScoreImagesRejected
{
    public required string JobId { get; init; }

    /// <summary>One of <see cref="RejectionCodes"/>.</summary>
    public required string Code { get; init; }

    public required string Reason { get; init; }

    /// <summary>The image the rejection is about, when it is about one.</summary>
    public int? ImageIndex { get; init; }

    public DateTimeOffset RejectedAt { get; init; }
}
