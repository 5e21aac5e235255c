using MassTransit;

namespace ArtGrid.Contracts;

/// <summary>Event: a job completed; published once per job, whatever the number of deliveries of its command.</summary>
public sealed record ImagesScored
{
    public required string JobId { get; init; }

    public required JobVerdict Verdict { get; init; }

    /// <summary>The event of a verdict: what a silo publishes and what it answers a request with, made here alone.</summary>
    public static ImagesScored Of(JobVerdict verdict) => new() { JobId = verdict.JobId, Verdict = verdict };
}
