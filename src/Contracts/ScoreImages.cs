using MassTransit;

namespace ArtGrid.Contracts;

// Bus contracts (MassTransit, System.Text.Json). Records with init properties and no base classes; add properties,
// never rename or retype one: producers and consumers of different versions share these queues.

/// <summary>
/// Command: score one job (a post of 1..N images). Sent to the "score-images" queue, or sent as a request by callers
/// that await the verdict. Re-sending the same <see cref="JobId"/> never scores twice: it answers the first verdict.
/// </summary>
public sealed record ScoreImages
{
    public required string JobId { get; init; }

    public required IReadOnlyList<ImageReference> Images { get; init; }

    public JobMetadata? Metadata { get; init; }

    /// <summary>0 (default) to 9; higher goes first where the queue supports priorities.</summary>
    public byte Priority { get; init; }

    public DateTimeOffset? SubmittedAt { get; init; }
}
