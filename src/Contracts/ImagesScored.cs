using System.Text.Json.Serialization;
using MassTransit;

namespace ArtGrid.Contracts;

/// <summary>Event: a job completed; published once per job, whatever the number of deliveries of its command.</summary>
public sealed record ImagesScored
{
    public required string JobId { get; init; }

    public required JobVerdict Verdict { get; init; }

    /// <summary>
    /// Null for a recorded verdict. Otherwise why the verdict was made without the cluster's Redis and what it misses
    /// (<see cref="RedisUnreachable"/>): not cached, no job record (a redelivery or a re-send of the job is scored and
    /// published again), the author's history neither read nor counted.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Unrecorded { get; init; }

    /// <summary>The <see cref="Unrecorded"/> of a job scored while its silo could not reach Redis.</summary>
    public const string RedisUnreachable = "redis unreachable: not cached, not recorded, author not counted";

    /// <summary>The event of a verdict: what a silo publishes and what it answers a request with, made here alone.</summary>
    public static ImagesScored Of(JobVerdict verdict) => new() { JobId = verdict.JobId, Verdict = verdict };
}
