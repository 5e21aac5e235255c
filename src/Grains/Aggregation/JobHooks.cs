using ArtGrid.Abstractions;

namespace ArtGrid.Grains.Aggregation;

/// <summary>
/// Where a completed job is told to the world. The embedded mode has no bus, so nothing is published; the cluster
/// writes the job record to Redis and publishes <see cref="ImagesScored"/> on the bus.
/// </summary>
public interface IJobCompletion
{
    /// <summary>Makes the completed job visible (record, event). Called until it succeeds once; must be idempotent.</summary>
    Task PublishAsync(JobVerdict verdict, CancellationToken cancellationToken = default);
}

/// <summary>The embedded mode's completion: the verdict stays in the job grain.</summary>
public sealed class NoJobCompletion : IJobCompletion
{
    public Task PublishAsync(JobVerdict verdict, CancellationToken cancellationToken = default) => Task.CompletedTask;
}

/// <summary>What a job grain keeps (grain storage "jobs": memory when embedded, Redis in the cluster).</summary>
[GenerateSerializer, Alias("artgrid.JobState")]
public sealed class JobState
{
    [Id(0)]
    public JobVerdict? Verdict { get; set; }

    /// <summary>When the completion was published; null while it has not been (a crash between scoring and publishing).</summary>
    [Id(1)]
    public DateTimeOffset? PublishedAt { get; set; }
}
