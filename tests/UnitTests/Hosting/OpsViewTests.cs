using System.Diagnostics.Metrics;
using ArtGrid.Hosting.Operations;
using ArtGrid.Imaging.Sandbox;
using ArtGrid.Inference.Devices;
using ArtGrid.Inference.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ArtGrid.Tests.Hosting;

/// <summary>What a silo sums of its own meters, the rates it derives, and how the gateway merges silos into the ops view.</summary>
public sealed class OpsViewTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void SiloStatsSumTheInstrumentsOfItsOwnMeterFactory_AndReadQueueDepthsNow()
    {
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using ServiceProvider other = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var time = new FakeTimeProvider(Now);
        var devices = new LocalDevices();
        using var stats = new SiloStats(services.GetRequiredService<IMeterFactory>(), time);
        var inference = new ArtGridInstruments(services.GetRequiredService<IMeterFactory>(), devices);
        var decode = new DecodeInstruments(services.GetRequiredService<IMeterFactory>());
        var jobs = new JobInstruments(services.GetRequiredService<IMeterFactory>());
        var elsewhere = new ArtGridInstruments(other.GetRequiredService<IMeterFactory>());

        int held = 3;
        devices.Register("artgrid-resnet18/3@silo-1/cpu:0", () => held);
        inference.ImageScored("ai", cached: false);
        inference.ImageScored("human", cached: true);
        inference.ImageScored("decode_failed", cached: false);
        elsewhere.ImageScored("ai", cached: false); // another host's meter: not this silo's
        inference.BatchRan("silo-1/cpu:0", 4, TimeSpan.FromMilliseconds(30));
        inference.BatchRan("silo-1/cpu:0", 2, TimeSpan.FromMilliseconds(20));
        inference.Rejected("silo-1/cpu:0");
        decode.Decoded("ok", TimeSpan.FromMilliseconds(5));
        decode.Decoded("decode_failed", TimeSpan.FromMilliseconds(5));
        decode.DecodeWorkerReplaced("timeout");
        jobs.Completed("scored");
        jobs.Completed("replayed");
        jobs.Completed("rejected");
        jobs.Waited(TimeSpan.FromMilliseconds(1500));

        SiloTotals totals = stats.Read();
        Assert.Equal(3, totals.ImagesScored);
        Assert.Equal((1, 2), (totals.CacheHits, totals.CacheMisses));
        Assert.Equal(2, totals.JobsCompleted);
        Assert.Equal(1, totals.JobOutcomes["rejected"]);
        Assert.Equal(new Dictionary<string, long> { ["ok"] = 1, ["decode_failed"] = 1 }, totals.DecodeOutcomes);
        Assert.Equal(1, totals.DecodeWorkersReplaced);
        Assert.Equal(1500, totals.LastQueueWaitMs);
        Assert.Equal(Now, totals.LastQueueWaitAt);
        DeviceStats device = Assert.Single(totals.Devices);
        Assert.Equal(new DeviceStats("silo-1/cpu:0", "artgrid-resnet18/3", 3, 2, 3, 2, 6, 1), device);

        // The queue depth is read at each Read, not remembered.
        held = 0;
        Assert.Equal(0, stats.Read().Devices[0].QueueDepth);
    }

    [Fact]
    public void RatesAreTheGrowthOverTheWindow_AndZeroWithOneSample()
    {
        var rates = new RateWindow();
        Assert.Equal((0, 0), rates.Add(Now, 10, 2));
        Assert.Equal((5, 1), rates.Add(Now.AddSeconds(2), 20, 4));
        Assert.Equal((2.5, 0.5), rates.Add(Now.AddSeconds(4), 20, 4));

        // Samples older than the window drop out: only the last 20 s count.
        for (int s = 6; s <= 40; s += 2)
        {
            rates.Add(Now.AddSeconds(s), 20, 4);
        }

        Assert.Equal((0, 0), rates.Add(Now.AddSeconds(42), 20, 4));
        Assert.Equal((1.1, 0), rates.Add(Now.AddSeconds(44), 42, 4)); // 22 more images since the sample at 24 s
    }

    [Fact]
    public void TheViewCountsActiveMembersWithFreshSnapshots_AndSaysWhoIsNotReporting()
    {
        SiloSnapshot one = Snapshot("silo-1", Now.AddSeconds(-1), rate: 1, images: 10, hits: 2, misses: 8, failures: new() { ["decode_failed"] = 1 }, waitMs: 40, waitAt: Now.AddSeconds(-5));
        SiloSnapshot two = Snapshot("silo-2", Now.AddSeconds(-2), rate: 2, images: 5, hits: 0, misses: 5, failures: new() { ["decode_failed"] = 2, ["decode_timeout"] = 1 }, waitMs: 900, waitAt: Now.AddSeconds(-3));
        SiloSnapshot stale = Snapshot("silo-3", Now - OpsKeys.TimeToLive - TimeSpan.FromSeconds(1), images: 100, hits: 0, misses: 100);
        SiloSnapshot dead = Snapshot("silo-9", Now.AddSeconds(-1), images: 1000, hits: 0, misses: 1000);
        SiloMember[] members =
        [
            new("silo-2", "Active", "127.0.0.1:11112", Now.AddHours(-1)),
            new("silo-1", "Active", "127.0.0.1:11111", Now.AddHours(-1)),
            new("silo-3", "Active", "127.0.0.1:11113", Now.AddHours(-1)),
            new("silo-9", "Dead", "127.0.0.1:11119", Now.AddHours(-2)),
        ];

        OpsView view = OpsMerge.Merge(Now, [one, two, stale, dead], members, "score-images", new BrokerQueue("score-images", 7, 2), new BrokerQueue("score-images_error", 1, 0), []);

        Assert.Equal(["silo-1", "silo-2", "silo-3"], view.Silos.Select(s => s.Name));
        Assert.Equal([true, true, false], view.Silos.Select(s => s.Reporting));
        Assert.Equal(15, view.Throughput.ImagesScored);
        Assert.Equal(3, view.Throughput.ImagesPerSecond); // 1 + 2 images/s from the two fresh snapshots
        Assert.Equal(new OpsCache(2, 13, Math.Round(2 / 15.0, 4)), view.Cache);
        Assert.Equal(new Dictionary<string, long> { ["decode_failed"] = 3, ["decode_timeout"] = 1 }, view.DecodeFailures);
        Assert.Equal(new OpsQueue("score-images", 7, 2, 900, Now.AddSeconds(-3), "score-images_error", 1), view.Queue);
        Assert.Single(view.Silos[0].Devices);
    }

    [Fact]
    public void WithoutMembershipOrBrokerTheViewHasTheFreshSnapshotsAndNullCounts()
    {
        OpsView view = OpsMerge.Merge(Now, [Snapshot("silo-1", Now, images: 3, hits: 0, misses: 0)], null, "q", null, null, ["The broker did not answer"]);
        OpsSilo silo = Assert.Single(view.Silos);
        Assert.Equal(("silo-1", "Unknown", true), (silo.Name, silo.Status, silo.Reporting));
        Assert.Null(view.Queue.Depth);
        Assert.Null(view.Queue.ErrorDepth);
        Assert.Null(view.Cache.HitRate);
        Assert.Single(view.Warnings);
    }

    private static SiloSnapshot Snapshot(
        string silo, DateTimeOffset at, long images, long hits, long misses, Dictionary<string, long>? failures = null, double? waitMs = null, DateTimeOffset? waitAt = null, double rate = 5) =>
        new(
            silo,
            at,
            at.AddHours(-1),
            "artgrid-resnet18/3",
            images,
            rate,
            images,
            0,
            1,
            hits,
            misses,
            failures ?? [],
            failures ?? [],
            2,
            0,
            0,
            waitMs,
            waitAt,
            [new DeviceStats(silo + "/cpu:0", "artgrid-resnet18/3", 0, 1, 1, images, images, 0)]);
}
