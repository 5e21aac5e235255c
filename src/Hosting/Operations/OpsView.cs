namespace ArtGrid.Hosting.Operations;

/// <summary>
/// The answer of <c>GET /v1/ops</c>: the cluster's live silos (their own snapshots, merged), the broker's view of the
/// job queue and of its error queue, and the totals an operator looks at first. Counts are since each live silo started
/// (a silo that restarts starts again from zero); rates are over the last <see cref="RateWindow.Span"/>.
/// </summary>
/// <param name="Warnings">What could not be read this time (the broker, the membership): the rest is still answered.</param>
public sealed record OpsView(
    DateTimeOffset At,
    OpsThroughput Throughput,
    OpsQueue Queue,
    OpsCache Cache,
    IReadOnlyDictionary<string, long> DecodeFailures,
    IReadOnlyDictionary<string, long> ImageErrors,
    OpsDecodeWorkers DecodeWorkers,
    IReadOnlyList<OpsSilo> Silos,
    IReadOnlyList<string> Warnings);

/// <summary>Images and jobs per second over the rate window, and the totals of the live silos.</summary>
public sealed record OpsThroughput(double ImagesPerSecond, double JobsPerSecond, long ImagesScored, long JobsCompleted, long JobsRejected);

/// <summary>
/// The job queue: messages waiting (ready, not yet delivered to a silo) and consumers, from the broker; its age as the
/// time the last job taken off it had waited (<see cref="AgeMs"/>, seen by the silo that took it at
/// <see cref="AgeObservedAt"/>); and the messages in its "_error" queue. A count is null when the broker did not answer.
/// </summary>
public sealed record OpsQueue(string Name, long? Depth, long? Consumers, double? AgeMs, DateTimeOffset? AgeObservedAt, string ErrorQueue, long? ErrorDepth);

/// <summary>Images answered from the result cache (<see cref="Hits"/>) and not (<see cref="Misses"/>); the rate is null before any.</summary>
public sealed record OpsCache(long Hits, long Misses, double? HitRate);

/// <summary>Decode worker processes running on the live silos, busy now, and replaced since the silos started.</summary>
public sealed record OpsDecodeWorkers(int Running, int Busy, long Replaced);

/// <summary>
/// One silo: its membership status and address (null when the membership could not be read), and what its last
/// snapshot said (<see cref="Reporting"/> false when it has none fresh: it has just started, or cannot reach Redis).
/// </summary>
public sealed record OpsSilo(
    string Name,
    string Status,
    string? Address,
    DateTimeOffset? StartedAt,
    bool Reporting,
    DateTimeOffset? ReportedAt,
    string? Model,
    double ImagesPerSecond,
    double JobsPerSecond,
    long ImagesScored,
    long JobsCompleted,
    int DecodeWorkers,
    IReadOnlyList<DeviceStats> Devices);

/// <summary>A member of the cluster as the membership table has it.</summary>
public sealed record SiloMember(string Name, string Status, string? Address, DateTimeOffset? StartedAt);

/// <summary>A queue as the broker counts it.</summary>
public sealed record BrokerQueue(string Name, long Messages, long Consumers);

public static class OpsMerge
{
    /// <summary>
    /// Merges the silos' snapshots with the membership and the broker's counts. Snapshots older than
    /// <see cref="OpsKeys.TimeToLive"/> are dropped; with a membership (<paramref name="members"/> not null) only its
    /// Active silos count, each listed even before its first snapshot, and a snapshot of a silo no longer active is
    /// ignored; without one, every fresh snapshot counts and its status is "unknown".
    /// </summary>
    public static OpsView Merge(
        DateTimeOffset now,
        IEnumerable<SiloSnapshot> snapshots,
        IReadOnlyList<SiloMember>? members,
        string queueName,
        BrokerQueue? queue,
        BrokerQueue? errorQueue,
        IReadOnlyList<string> warnings)
    {
        Dictionary<string, SiloSnapshot> fresh = snapshots
            .Where(s => now - s.At <= OpsKeys.TimeToLive)
            .GroupBy(s => s.Silo, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(s => s.At)!, StringComparer.Ordinal);

        List<(SiloMember Member, SiloSnapshot? Snapshot)> silos = members is null
            ? [.. fresh.Values.Select(s => (new SiloMember(s.Silo, "Unknown", null, s.StartedAt), (SiloSnapshot?)s))]
            : [.. members.Where(m => m.Status == "Active").Select(m => (m, fresh.GetValueOrDefault(m.Name)))];
        silos.Sort((a, b) => string.CompareOrdinal(a.Member.Name, b.Member.Name));
        SiloSnapshot[] live = [.. silos.Where(s => s.Snapshot is not null).Select(s => s.Snapshot!)];

        long hits = live.Sum(s => s.CacheHits);
        long misses = live.Sum(s => s.CacheMisses);
        SiloSnapshot? lastTaken = live.Where(s => s.QueueWaitAt is not null).MaxBy(s => s.QueueWaitAt);
        return new OpsView(
            now,
            new OpsThroughput(
                Math.Round(live.Sum(s => s.ImagesPerSecond), 3),
                Math.Round(live.Sum(s => s.JobsPerSecond), 3),
                live.Sum(s => s.ImagesScored),
                live.Sum(s => s.JobsCompleted),
                live.Sum(s => s.JobsRejected)),
            new OpsQueue(queueName, queue?.Messages, queue?.Consumers, lastTaken?.QueueWaitMs, lastTaken?.QueueWaitAt, ErrorQueueOf(queueName), errorQueue?.Messages),
            new OpsCache(hits, misses, hits + misses == 0 ? null : Math.Round((double)hits / (hits + misses), 4)),
            Sum(live.Select(s => s.DecodeFailures)),
            Sum(live.Select(s => s.ImageErrors)),
            new OpsDecodeWorkers(live.Sum(s => s.DecodeWorkers), live.Sum(s => s.DecodeWorkersBusy), live.Sum(s => s.DecodeWorkersReplaced)),
            [.. silos.Select(s => new OpsSilo(
                s.Member.Name,
                s.Member.Status,
                s.Member.Address,
                s.Member.StartedAt ?? s.Snapshot?.StartedAt,
                s.Snapshot is not null,
                s.Snapshot?.At,
                s.Snapshot?.Model,
                s.Snapshot?.ImagesPerSecond ?? 0,
                s.Snapshot?.JobsPerSecond ?? 0,
                s.Snapshot?.ImagesScored ?? 0,
                s.Snapshot?.JobsCompleted ?? 0,
                s.Snapshot?.DecodeWorkers ?? 0,
                s.Snapshot?.Devices ?? []))],
            warnings);
    }

    /// <summary>MassTransit's error queue of a receive endpoint.</summary>
    public static string ErrorQueueOf(string queueName) => queueName + "_error";

    private static SortedDictionary<string, long> Sum(IEnumerable<IReadOnlyDictionary<string, long>> counts)
    {
        var total = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach ((string code, long count) in counts.SelectMany(c => c))
        {
            total[code] = total.GetValueOrDefault(code) + count;
        }

        return total;
    }
}
