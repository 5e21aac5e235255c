using System.Diagnostics;
using System.Net;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>The bus and events of a run of its own, and no silo on the shared Redis: the test's silo uses a Redis of its own.</summary>
public sealed class RedisOutageFixture : IAsyncLifetime
{
    public ServersFixture Servers { get; } = new() { SiloCount = 0 };

    public Task InitializeAsync() => Servers.InitializeAsync();

    public Task DisposeAsync() => Servers.DisposeAsync();
}

/// <summary>
/// Redis gone for a whole minute in the middle of a run (killed, then started again from its append-only file, as a
/// deployment's Redis restarts): a silo stays live but not ready and says why, jobs that arrive or are in progress
/// meanwhile fail and are retried by the bus, and once Redis is back every job gets one verdict. Nothing is lost as long
/// as the outage is shorter than the retries (here the tests' 10 retries, about 90 s; in production 12, a few minutes).
/// </summary>
public sealed class RedisOutageTests(RedisOutageFixture fixture, ITestOutputHelper output) : IClassFixture<RedisOutageFixture>
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RedisGoneForAMinuteMidRun_TheSiloSaysWhyItIsNotReady_AndEveryJobGetsOneVerdictOnceItIsBack()
    {
        ServersFixture cluster = fixture.Servers;
        await using PrivateRedis redis = await PrivateRedis.StartAsync();
        var settings = new Dictionary<string, string>(cluster.SiloSettings) { ["ConnectionStrings__Redis"] = redis.Address };
        await using SiloProcess silo = await SiloProcess.StartAsync("redis-outage", settings);

        // Small images, carried in the message: nothing of a job is in the Redis that goes away before the silo has it.
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(40, seed: 61);
        ScoreImages[] jobs = await Task.WhenAll(images.Select(async (image, i) => new ScoreImages
        {
            JobId = $"{cluster.RunId}-outage-{i}",
            Images = [new ImageReference { Name = image.Name, Data = await new ImageData(cluster.MessageData).OfAsync(image.Bytes) }],
            SubmittedAt = DateTimeOffset.UtcNow,
        }));
        Assert.All(jobs, job => Assert.True(ImageData.IsInline(job.Images[0].Data)));
        string[] ids = [.. jobs.Select(j => j.JobId)];

        await cluster.SendAllAsync(jobs.Take(20));
        await Wait.UntilAsync(() => cluster.Events.CountScored(ids) >= 5, TimeSpan.FromMinutes(2), "no job was scored before the outage");

        var clock = Stopwatch.StartNew();
        await redis.StopAsync();
        int doneBefore = cluster.Events.CountScored(ids);
        await cluster.SendAllAsync(jobs.Skip(20));

        // While Redis is gone: live (nothing to restart), not ready, and the readiness check names Redis.
        string? ready = null;
        while (clock.Elapsed < Outage)
        {
            using HttpResponseMessage response = await silo.Http.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                ready = await response.Content.ReadAsStringAsync();
                break;
            }

            await Task.Delay(500);
        }

        Assert.True(ready is not null, "the silo stayed ready with Redis gone");
        Assert.Contains("\"name\":\"redis\",\"status\":\"Unhealthy\"", ready, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/health/live")).StatusCode);
        int doneDuring = cluster.Events.CountScored(ids);
        await Task.Delay(Outage - clock.Elapsed);
        await redis.StartAgainAsync();
        output.WriteLine($"Redis gone {clock.Elapsed.TotalSeconds:0} s: {doneBefore} of {ids.Length} jobs done before, {doneDuring - doneBefore} more while it went away");

        clock.Restart();
        Assert.True(
            await cluster.Events.WaitForScoredAsync(ids, TimeSpan.FromMinutes(4)),
            $"{cluster.Events.CountScored(ids)} of {ids.Length} verdicts arrived; {cluster.Events.Faults.Count} faults.\n{string.Join('\n', silo.Log.Split('\n').TakeLast(60))}");
        output.WriteLine($"all {ids.Length} done {clock.Elapsed.TotalSeconds:0.0} s after Redis came back");
        await using var connection = new RedisConnection(redis.Address);
        var records = new RedisJobRecords(connection, TimeSpan.FromHours(1));
        foreach (string id in ids)
        {
            Assert.Single(cluster.Events.Scored[id].Select(e => e.Verdict.CompletedAt).Distinct());
            Assert.Equal(JobStatus.Completed, (await records.GetAsync(id))?.Status);
        }

        Assert.Empty(cluster.Events.Faults);
        Assert.False(silo.HasExited, $"the silo exited:\n{silo.Log}");
    }
}
