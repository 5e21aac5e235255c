using System.Diagnostics;
using System.Net;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Caching;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// Redis gone for a whole minute in the middle of a run (killed, then started again from its append-only file, as a
/// deployment's Redis restarts): a silo stays live but not ready and says why; jobs that arrive meanwhile, their images in
/// the message, are scored during the outage, each published once flagged unrecorded (no cache, no job record) with the
/// probability the same image gets once Redis is back; jobs in progress when it went away end with a verdict each; nothing
/// faults; and once Redis is back, jobs are recorded, cached and unflagged again.
/// </summary>
public sealed class RedisOutageTests(ServersWithoutSilos fixture, ITestOutputHelper output) : IClassFixture<ServersWithoutSilos>
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RedisGoneForAMinuteMidRun_JobsAreScoredMeanwhileFlaggedUnrecorded_AndRecordedAgainOnceItIsBack()
    {
        ServersFixture cluster = fixture.Servers;
        await using PrivateRedis redis = await PrivateRedis.StartAsync();
        var settings = new Dictionary<string, string>(cluster.SiloSettings) { ["ConnectionStrings__Redis"] = redis.Address };
        await using SiloProcess silo = await SiloProcess.StartAsync("redis-outage", settings);

        // Small images, carried in the message: nothing of a job is in the Redis that goes away before the silo has it.
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(40, seed: 61);
        ScoreImages[] jobs = await Task.WhenAll(images.Select((image, i) => JobAsync($"{cluster.RunId}-outage-{i}", image)));
        Assert.All(jobs, job => Assert.True(ImageData.IsInline(job.Images[0].Data)));
        string[] inFlight = [.. jobs.Take(20).Select(j => j.JobId)];
        string[] duringOutage = [.. jobs.Skip(20).Select(j => j.JobId)];

        await cluster.SendAllAsync(jobs.Take(20));
        await Wait.UntilAsync(() => cluster.Events.CountScored(inFlight) >= 5, TimeSpan.FromMinutes(2), "no job was scored before the outage");

        var clock = Stopwatch.StartNew();
        await redis.StopAsync();
        int doneBefore = cluster.Events.CountScored(inFlight);
        await cluster.SendAllAsync(jobs.Skip(20));

        // While Redis is gone: live (nothing to restart), not ready, the readiness check names Redis, and the jobs sent
        // meanwhile are scored.
        string? ready = null;
        TimeSpan? firstFlagged = null;
        while (clock.Elapsed < Outage && (ready is null || cluster.Events.CountScored(duringOutage) < duringOutage.Length))
        {
            if (firstFlagged is null && cluster.Events.Scored.Values.Any(events => events.Any(e => e.Unrecorded is not null)))
            {
                firstFlagged = clock.Elapsed;
            }

            if (ready is null)
            {
                using HttpResponseMessage response = await silo.Http.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    ready = await response.Content.ReadAsStringAsync();
                }
            }

            await Task.Delay(100);
        }

        firstFlagged ??= cluster.Events.Scored.Values.Any(events => events.Any(e => e.Unrecorded is not null)) ? clock.Elapsed : null;
        Assert.True(ready is not null, "the silo stayed ready with Redis gone");
        Assert.Contains("\"name\":\"redis\",\"status\":\"Unhealthy\"", ready, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/live")).StatusCode);
        int doneDuring = cluster.Events.CountScored(duringOutage);
        TimeSpan allDuring = clock.Elapsed;
        Assert.True(
            doneDuring == duringOutage.Length,
            $"{doneDuring} of {duringOutage.Length} jobs sent during the outage were scored during it.\n{string.Join('\n', silo.Log.Split('\n').TakeLast(60))}");

        // Scored without Redis: nothing of these jobs reached it, neither a record nor a cache entry.
        await Task.Delay(Outage - clock.Elapsed);
        await redis.StartAgainAsync();
        output.WriteLine($"Redis gone {clock.Elapsed.TotalSeconds:0} s: {doneBefore} of {inFlight.Length} jobs done before; " +
                         $"all {doneDuring} jobs sent during the outage scored {allDuring.TotalSeconds:0.0} s into it, " +
                         $"the first flagged verdict {firstFlagged?.TotalSeconds:0.0} s into it");
        await using var connection = new RedisConnection(redis.Address);
        var records = new RedisJobRecords(connection, TimeSpan.FromHours(1));
        IDatabase db = redis.Connection.GetDatabase();
        var flagged = new Dictionary<int, ImagesScored>();
        for (int i = 0; i < duringOutage.Length; i++)
        {
            ImagesScored scored = Assert.Single(cluster.Events.Scored[duringOutage[i]]);
            Assert.Equal(ImagesScored.RedisUnreachable, scored.Unrecorded);
            Assert.Null(await records.GetAsync(duringOutage[i]));
            ImageScore image = Assert.Single(scored.Verdict.Images);
            Assert.Null(image.Error);
            Assert.False(await db.KeyExistsAsync(RedisResultCache.Key(image.Sha256!, image.Model)), $"{duringOutage[i]} was cached");
            flagged[20 + i] = scored;
        }

        clock.Restart();
        Assert.True(
            await cluster.Events.WaitForScoredAsync(inFlight, TimeSpan.FromMinutes(4)),
            $"{cluster.Events.CountScored(inFlight)} of {inFlight.Length} verdicts arrived; {cluster.Events.Faults.Count} faults.\n{string.Join('\n', silo.Log.Split('\n').TakeLast(60))}");
        int inFlightFlagged = 0, repeated = 0;
        foreach (string id in inFlight)
        {
            // One verdict each, flagged or recorded; a job whose publication Redis interrupted may be published again
            // flagged (nothing recorded it meanwhile), with the same probability.
            ImagesScored[] events = [.. cluster.Events.Scored[id]];
            Assert.NotEmpty(events);
            Assert.True(events.Where(e => e.Unrecorded is null).Select(e => e.Verdict.CompletedAt).Distinct().Count() <= 1, $"{id} has two recorded verdicts");
            Assert.All(events, e => Assert.Equal(events[0].Verdict.AiProbability!.Value, e.Verdict.AiProbability!.Value, 1e-6));
            inFlightFlagged += events.Any(e => e.Unrecorded is not null) ? 1 : 0;
            repeated += events.Length - 1;
            if (events.Any(e => e.Unrecorded is null))
            {
                Assert.Equal(JobStatus.Completed, (await records.GetAsync(id))?.Status);
            }
        }

        output.WriteLine($"jobs in progress when Redis went away: all {inFlight.Length} done {clock.Elapsed.TotalSeconds:0.0} s after it came back, " +
                         $"{inFlightFlagged} of them flagged, {repeated} published twice");

        // Once Redis is back, the images scored during the outage sent again as new jobs: recorded, cached, unflagged,
        // and the same probability as their flagged verdicts.
        ScoreImages[] again = await Task.WhenAll(flagged.Keys.Select(i => JobAsync($"{cluster.RunId}-after-{i}", images[i])));
        await cluster.SendAllAsync(again);
        Assert.True(await cluster.Events.WaitForScoredAsync([.. again.Select(j => j.JobId)], TimeSpan.FromMinutes(2)), "the jobs sent after the outage got no verdict");
        foreach ((int i, ScoreImages job) in flagged.Keys.Zip(again))
        {
            ImagesScored scored = Assert.Single(cluster.Events.Scored[job.JobId]);
            Assert.Null(scored.Unrecorded);
            Assert.Equal(flagged[i].Verdict.AiProbability!.Value, scored.Verdict.AiProbability!.Value, 1e-6);
            Assert.Equal(flagged[i].Verdict.Label, scored.Verdict.Label);
            Assert.Equal(JobStatus.Completed, (await records.GetAsync(job.JobId))?.Status);
            ImageScore image = Assert.Single(scored.Verdict.Images);
            Assert.True(await db.KeyExistsAsync(RedisResultCache.Key(image.Sha256!, image.Model)), $"{job.JobId} was not cached");
        }

        Assert.Empty(cluster.Events.Faults);
        Assert.False(silo.HasExited, $"the silo exited:\n{silo.Log}");

        async Task<ScoreImages> JobAsync(string jobId, (string Name, byte[] Bytes) image) => new()
        {
            JobId = jobId,
            Images = [new ImageReference { Name = image.Name, Data = await new ImageData(cluster.MessageData).OfAsync(image.Bytes) }],
            SubmittedAt = DateTimeOffset.UtcNow,
        };
    }
}
