namespace ArtGrid.Grains;

/// <summary>
/// Where a completed job is told to the world. The embedded mode has no bus, so nothing is published; the cluster
/// writes the job record to Redis and publishes <see cref="ImagesScored"/> on the bus.
/// </summary>
public interface IJobCompletion
{
    /// <summary>
    /// Makes the completed job visible (record, event). Called until it succeeds once; must be idempotent. Returns the
    /// verdict that stands: <paramref name="verdict"/>, or the one an earlier attempt already made visible (whose
    /// publication this call repeats), so that a job has one verdict whatever the number of attempts.
    /// </summary>
    Task<JobVerdict> PublishAsync(JobVerdict verdict, CancellationToken cancellationToken = default);
}
