using System.Collections.Concurrent;
using System.Diagnostics;
using ArtGrid.GrainInterfaces;
using ArtGrid.Hosting.Embedded;
using Microsoft.Extensions.DependencyInjection;

namespace ArtGrid.Bench;

/// <summary>
/// Part 4: memory, with 12 MP JPEGs through the embedded pipeline. Resident memory is summed over this process and
/// its decode worker processes (which hold the full-size pixels while decoding).
/// (a) Bytes per in-flight image, with 1 and with K images in flight (EmbeddedScorer's bound), the difference over K - 1:
///     the managed bytes still reachable in the host a third and two thirds of the way through (a full collection
///     first; every in-flight image beyond one per worker waits in the host), and, for comparison, resident memory over
///     the pre-run level (the median sample of each run's middle half) of the host and of host + workers (a worker's
///     memory moves with its own recycling, not with the load); and managed bytes allocated per image here.
/// (b) Overload: jobs offered open-loop at twice the rate the K run scored, for a bounded time, then drained;
///     resident memory sampled throughout, so that the peak and whether it levels off can be read.
/// </summary>
internal sealed class MemoryBench(IReadOnlyList<Photo> photos12Mp, string scratch)
{
    public const int ManyInFlight = 16;

    private readonly ConcurrentDictionary<string, int> _failures = new();

    public sealed record Result(
        double BytesPerInFlight,
        double BytesPerInFlightHost,
        double BytesPerInFlightTree,
        double AllocatedBytesPerImage,
        double CapacityImagesPerSecond,
        double OfferedPerSecond,
        double OfferSeconds,
        long IdleRssBytes,
        ProcessTree.Rss PeakOverload,
        int Offered,
        Dictionary<string, int> Outcomes,
        int MaxBacklog,
        Dictionary<string, int> InFlightRunFailures,
        double DrainSeconds,
        double RssSlopeSecondHalfMiBPerS,
        List<(double Seconds, ProcessTree.Rss Rss, int Backlog)> Timeline,
        Dictionary<string, double[]> Rounds);

    public async Task<Result> RunAsync(EmbeddedCluster cluster, int rounds, double offerSeconds, CancellationToken cancellationToken)
    {
        IGrainFactory grains = cluster.Services.GetRequiredService<IGrainFactory>();
        // (a) 1 and K in flight, alternating.
        var runs = new Dictionary<int, List<InFlightRun>> { [1] = [], [ManyInFlight] = [] };
        _ = await InFlightRunAsync(cluster, 1, 1, cancellationToken); // warm-up
        for (int round = 0; round < rounds; round++)
        {
            foreach (int k in round % 2 == 0 ? new[] { 1, ManyInFlight } : [ManyInFlight, 1])
            {
                InFlightRun result = await InFlightRunAsync(cluster, k, k == 1 ? 1 : ((2 * ManyInFlight) + photos12Mp.Count - 1) / photos12Mp.Count, cancellationToken);
                runs[k].Add(result);
                Progress.Say($"  memory, {k} in flight: live managed {result.LiveGrowth / 1048576:0.0} MiB, resident host {result.HostGrowth / 1048576:0} MiB, host + workers {result.TreeGrowth / 1048576:0} MiB over the pre-run level; {result.PerSecond:0.0} images/s; {result.AllocatedPerImage / 1048576:0.0} MiB allocated per image here");
            }
        }

        double PerInFlight(Func<InFlightRun, double> growth) =>
            (Stats.Median([.. runs[ManyInFlight].Select(growth).Order()]) - Stats.Median([.. runs[1].Select(growth).Order()])) / (ManyInFlight - 1);
        double bytesPerInFlight = PerInFlight(r => r.LiveGrowth);
        double bytesPerInFlightHost = PerInFlight(r => r.HostGrowth);
        double bytesPerInFlightTree = PerInFlight(r => r.TreeGrowth);
        double scored = Stats.Median([.. runs[ManyInFlight].Select(r => r.PerSecond).Order()]);
        double[] allocated = [.. runs.Values.SelectMany(r => r).Select(r => r.AllocatedPerImage)];

        // (b) 2x overload, open loop.
        double rate = 2 * scored;
        int offered = Math.Max(1, (int)Math.Round(rate * offerSeconds));
        List<string> files = PhotoMix.WriteUniqueCopies(photos12Mp, (offered + photos12Mp.Count - 1) / photos12Mp.Count, Path.Combine(scratch, "overload"));
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        await Task.Delay(500, cancellationToken);
        long idle = ProcessTree.Read().TotalBytes;
        var outcomes = new ConcurrentDictionary<string, int>();
        int submitted = 0, completed = 0, maxBacklog = 0;
        var timeline = new List<(double, ProcessTree.Rss, int)>();
        Progress.Say($"  overload: offering {offered} 12 MP images at {rate:0.0}/s ({offerSeconds:0} s, twice the {scored:0.0}/s scored with {ManyInFlight} in flight)");
        var clock = Stopwatch.StartNew();
        using var stopSampling = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            do
            {
                int backlog = Volatile.Read(ref submitted) - Volatile.Read(ref completed);
                lock (timeline)
                {
                    timeline.Add((clock.Elapsed.TotalSeconds, ProcessTree.Read(), backlog));
                }
            }
            while (await timer.WaitForNextTickAsync(stopSampling.Token).AsTask().ContinueWith(t => !t.IsCanceled && t.Result, TaskScheduler.Default));
        }, CancellationToken.None);

        var jobs = new List<Task>(offered);
        string run = Guid.NewGuid().ToString("N")[..8];
        for (int i = 0; i < offered; i++)
        {
            TimeSpan due = TimeSpan.FromSeconds(i / rate) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            string jobId = $"bench-overload-{run}-{i}";
            string file = files[i];
            Interlocked.Increment(ref submitted);
            maxBacklog = Math.Max(maxBacklog, submitted - Volatile.Read(ref completed));
            jobs.Add(Task.Run(async () =>
            {
                string outcome;
                try
                {
                    JobVerdict verdict = await grains.GetGrain<IJobGrain>(jobId).ScoreAsync(new ScoreJob(jobId, [ImageRef.FromFile(file)], JobMetadata.None), cancellationToken);
                    outcome = verdict.Images[0].Error?.Code ?? "scored";
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    outcome = ex.GetType().Name;
                }

                outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                Interlocked.Increment(ref completed);
            }, cancellationToken));
        }

        double offeredFor = clock.Elapsed.TotalSeconds;
        await Task.WhenAll(jobs);
        double drained = clock.Elapsed.TotalSeconds - offeredFor;
        await stopSampling.CancelAsync();
        await sampler;
        foreach (string file in files)
        {
            File.Delete(file);
        }

        List<(double Seconds, ProcessTree.Rss Rss, int Backlog)> samples;
        lock (timeline)
        {
            samples = [.. timeline];
        }

        ProcessTree.Rss peak = samples.MaxBy(s => s.Rss.TotalBytes).Rss;
        (double Seconds, ProcessTree.Rss Rss, int Backlog)[] secondHalf = [.. samples.Where(s => s.Seconds >= offeredFor / 2 && s.Seconds <= offeredFor)];
        double slope = secondHalf.Length < 2 ? double.NaN : Slope([.. secondHalf.Select(s => s.Seconds)], [.. secondHalf.Select(s => s.Rss.TotalBytes / 1048576.0)]);
        return new Result(
            bytesPerInFlight,
            bytesPerInFlightHost,
            bytesPerInFlightTree,
            Stats.Median([.. allocated.Order()]),
            scored,
            rate,
            offeredFor,
            idle,
            peak,
            offered,
            new Dictionary<string, int>(outcomes),
            maxBacklog,
            new Dictionary<string, int>(_failures),
            drained,
            slope,
            samples,
            new Dictionary<string, double[]>
            {
                ["live_growth_1_inflight_bytes"] = [.. runs[1].Select(r => r.LiveGrowth)],
                [$"live_growth_{ManyInFlight}_inflight_bytes"] = [.. runs[ManyInFlight].Select(r => r.LiveGrowth)],
                ["host_rss_growth_1_inflight_bytes"] = [.. runs[1].Select(r => r.HostGrowth)],
                [$"host_rss_growth_{ManyInFlight}_inflight_bytes"] = [.. runs[ManyInFlight].Select(r => r.HostGrowth)],
                ["tree_rss_growth_1_inflight_bytes"] = [.. runs[1].Select(r => r.TreeGrowth)],
                [$"tree_rss_growth_{ManyInFlight}_inflight_bytes"] = [.. runs[ManyInFlight].Select(r => r.TreeGrowth)],
                [$"images_per_s_{ManyInFlight}_inflight"] = [.. runs[ManyInFlight].Select(r => r.PerSecond)],
                ["allocated_bytes_per_image"] = allocated,
            });
    }

    // One run of the 12 MP photos through EmbeddedScorer with k in flight: resident memory over the pre-run level (the
    // median sample of the run's middle half, when k images are in flight; host and host + workers), images/s, and
    // managed bytes allocated per image in this process.
    private async Task<InFlightRun> InFlightRunAsync(EmbeddedCluster cluster, int k, int copies, CancellationToken cancellationToken)
    {
        List<string> files = PhotoMix.WriteUniqueCopies(photos12Mp, copies, Path.Combine(scratch, $"inflight-{k}"));
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        await Task.Delay(300, cancellationToken);
        ProcessTree.Rss before = ProcessTree.Read();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        double seconds;
        List<(double Seconds, ProcessTree.Rss Rss)> samples;
        var live = new List<double>();
        long liveBefore = GC.GetTotalMemory(forceFullCollection: true);
        int done = 0;
        await using (var sampler = new RssSampler(TimeSpan.FromMilliseconds(20)))
        {
            seconds = await Stats.SecondsAsync(() => cluster.CreateScorer(k).RunAsync(files, (_, score) =>
            {
                if (score.Error is { } error)
                {
                    _failures.AddOrUpdate(error.Code, 1, (_, n) => n + 1);
                }

                // A third and two thirds of the way, with k images in flight: the managed bytes still reachable.
                done++;
                if (done == Math.Max(1, files.Count / 3) || done == Math.Max(1, files.Count * 2 / 3))
                {
                    live.Add(GC.GetTotalMemory(forceFullCollection: true) - liveBefore);
                }

                return Task.CompletedTask;
            }, cancellationToken));
            lock (sampler.Samples)
            {
                samples = [.. sampler.Samples];
            }
        }

        long allocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        foreach (string file in files)
        {
            File.Delete(file);
        }

        ProcessTree.Rss[] middle = [.. samples.Where(s => s.Seconds >= seconds / 4 && s.Seconds <= seconds * 3 / 4).Select(s => s.Rss)];
        if (middle.Length == 0)
        {
            middle = [.. samples.Select(s => s.Rss)];
        }

        return new InFlightRun(
            Stats.Median([.. live.Order()]),
            Stats.Median([.. middle.Select(r => (double)(r.HostBytes - before.HostBytes)).Order()]),
            Stats.Median([.. middle.Select(r => (double)(r.TotalBytes - before.TotalBytes)).Order()]),
            files.Count / seconds,
            allocatedBytes / (double)files.Count);
    }

    private readonly record struct InFlightRun(double LiveGrowth, double HostGrowth, double TreeGrowth, double PerSecond, double AllocatedPerImage);

    private static double Slope(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average();
        double num = x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum();
        double den = x.Sum(a => (a - mx) * (a - mx));
        return den == 0 ? double.NaN : num / den;
    }
}
