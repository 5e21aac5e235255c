namespace ArtGrid.Hosting.Operations;

/// <summary>One device of a silo as operations see it: where it is, what it holds now and how it has batched.</summary>
/// <param name="Device">"{silo}/{device}", as the metrics tag it.</param>
/// <param name="Model">The model version of its active inference grain; null while none is active.</param>
/// <param name="QueueDepth">Requests it holds now: queued, or in the batch it is running.</param>
/// <param name="LastBatchSize">Images in its last inference run; null before the first.</param>
/// <param name="MeanBatchSize">Images per run since the silo started; null before the first.</param>
public sealed record DeviceStats(
    string Device,
    string? Model,
    int QueueDepth,
    int? LastBatchSize,
    double? MeanBatchSize,
    long Batches,
    long Images,
    long Rejected);

/// <summary>
/// What a silo says of itself every couple of seconds (<see cref="SiloSnapshotPublisher"/>), as JSON under
/// <see cref="OpsKeys.Silo"/>: totals since it started, rates over the last <see cref="RateWindow.Span"/>, and its
/// devices. The gateway's <c>GET /v1/ops</c> merges the live ones.
/// </summary>
/// <param name="DecodeFailures">Decodes that failed in the sandbox, by error code.</param>
/// <param name="ImageErrors">Images answered with an error, by code (decode failures and everything before or after).</param>
/// <param name="QueueWaitMs">How long the last job message this silo took had waited in the broker.</param>
public sealed record SiloSnapshot(
    string Silo,
    DateTimeOffset At,
    DateTimeOffset StartedAt,
    string? Model,
    long ImagesScored,
    double ImagesPerSecond,
    long JobsCompleted,
    long JobsRejected,
    double JobsPerSecond,
    long CacheHits,
    long CacheMisses,
    IReadOnlyDictionary<string, long> DecodeFailures,
    IReadOnlyDictionary<string, long> ImageErrors,
    int DecodeWorkers,
    int DecodeWorkersBusy,
    long DecodeWorkersReplaced,
    double? QueueWaitMs,
    DateTimeOffset? QueueWaitAt,
    IReadOnlyList<DeviceStats> Devices);

/// <summary>Where silos leave their snapshots in Redis, per service and cluster (clusters may share a Redis).</summary>
public static class OpsKeys
{
    /// <summary>How often a silo writes its snapshot.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>How long a snapshot lives: a silo that stops writing drops out of the view within this.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(15);

    /// <summary>The set of silo names that have written a snapshot (names whose key expired are removed by readers).</summary>
    public static string Silos(string serviceId, string clusterId) => $"artgrid:ops:{serviceId}:{clusterId}:silos";

    public static string Silo(string serviceId, string clusterId, string silo) => $"artgrid:ops:{serviceId}:{clusterId}:silo:{silo}";
}

/// <summary>
/// Rates from running totals: the totals are sampled at every snapshot, and a rate is the growth between now and the
/// oldest sample within <see cref="Span"/> over the time between them (0 with a single sample). Not thread-safe: one
/// writer, the publisher.
/// </summary>
public sealed class RateWindow
{
    public static readonly TimeSpan Span = TimeSpan.FromSeconds(20);

    private readonly Queue<(DateTimeOffset At, long Images, long Jobs)> _samples = new();

    /// <summary>Adds the totals at <paramref name="at"/> and answers images and jobs per second over the window.</summary>
    public (double ImagesPerSecond, double JobsPerSecond) Add(DateTimeOffset at, long images, long jobs)
    {
        _samples.Enqueue((at, images, jobs));
        while (_samples.Count > 2 && at - _samples.Peek().At > Span)
        {
            _samples.Dequeue();
        }

        (DateTimeOffset firstAt, long firstImages, long firstJobs) = _samples.Peek();
        double seconds = (at - firstAt).TotalSeconds;
        return seconds <= 0
            ? (0, 0)
            : (Math.Round(Math.Max(0, images - firstImages) / seconds, 3), Math.Round(Math.Max(0, jobs - firstJobs) / seconds, 3));
    }
}
