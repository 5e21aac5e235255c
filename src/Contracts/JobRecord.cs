using MassTransit;

namespace ArtGrid.Contracts;

/// <summary>What the cluster keeps about a job in Redis ("artgrid:job:{id}"), as JSON.</summary>
public sealed record JobRecord
{
    public required string JobId { get; init; }

    /// <summary>One of <see cref="JobStatus"/>.</summary>
    public required string Status { get; init; }

    /// <summary>When a producer that keeps records (the gateway) accepted the job, before any silo received it.</summary>
    public DateTimeOffset? AcceptedAt { get; init; }

    public DateTimeOffset? ReceivedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>
    /// When the broker took the completed job's <c>ImagesScored</c> event (null before, or when the mark was lost): a
    /// delivery of the job that finds it set is answered from this record and publishes nothing.
    /// </summary>
    public DateTimeOffset? PublishedAt { get; init; }

    public JobVerdict? Verdict { get; init; }

    public ScoreImagesRejected? Rejection { get; init; }

    public static string RedisKey(string jobId) => $"artgrid:job:{jobId}";

    /// <summary>The job's activation maps (a hash: image index to map), kept as long as its record.</summary>
    public static string MapsRedisKey(string jobId) => $"artgrid:job:{jobId}:maps";

    /// <summary>
    /// Where the job's images sent as bytes were claim-checked (a hash: image index to message data address), written
    /// when a silo receives the job and kept as long as its record: what the reviewer's console shows.
    /// </summary>
    public static string ImagesRedisKey(string jobId) => $"artgrid:job:{jobId}:images";

    /// <summary>What the job's images were when it was accepted (a fingerprint), for idempotent resubmission.</summary>
    public static string SubmissionRedisKey(string jobId) => $"artgrid:job:{jobId}:submission";
}

public static class JobStatus
{
    /// <summary>Accepted by the gateway and sent; no silo has taken it yet (it may be waiting in the queue).</summary>
    public const string Accepted = "accepted";

    public const string Received = "received";
    public const string Completed = "completed";
    public const string Rejected = "rejected";
}
