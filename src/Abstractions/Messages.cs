using MassTransit;

namespace ArtGrid.Abstractions;

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

/// <summary>Event: a job completed; published once per job, whatever the number of deliveries of its command.</summary>
public sealed record ImagesScored
{
    public required string JobId { get; init; }

    public required JobVerdict Verdict { get; init; }
}

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

public static class RejectionCodes
{
    /// <summary>The command breaks a rule (no images, too many, a bad job id, a reference naming no source or several).</summary>
    public const string InvalidCommand = "invalid_command";

    /// <summary>An image reference cannot be resolved, and retrying will not change that.</summary>
    public const string UnresolvableImage = "unresolvable_image";
}

/// <summary>What the cluster keeps about a job in Redis ("artgrid:job:{id}"), as JSON.</summary>
public sealed record JobRecord
{
    public required string JobId { get; init; }

    /// <summary>One of <see cref="JobStatus"/>.</summary>
    public required string Status { get; init; }

    public DateTimeOffset? ReceivedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public JobVerdict? Verdict { get; init; }

    public ScoreImagesRejected? Rejection { get; init; }

    public static string RedisKey(string jobId) => $"artgrid:job:{jobId}";
}

public static class JobStatus
{
    public const string Received = "received";
    public const string Completed = "completed";
    public const string Rejected = "rejected";
}
