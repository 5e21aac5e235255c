using MassTransit;

namespace ArtGrid.Contracts;

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
