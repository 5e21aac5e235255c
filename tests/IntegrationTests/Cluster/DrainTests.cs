using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// SIGTERM to real silo processes with jobs in flight, as an orchestrator stops them: the silo finishes or hands back
/// what it holds and exits by itself within ArtGrid:Silo:ShutdownSeconds; no job is lost and no verdict is published
/// twice. Each test's silos consume a queue of their own (in the fixture's cluster), so that the fixture's silos take
/// none of their jobs. Drain times are printed, not asserted.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed partial class DrainTests(ServersFixture cluster, ITestOutputHelper output)
{
    private const int ShutdownSeconds = 30;
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task SigtermWithThirtyTwoJobsInFlight_FinishesOrHandsBackEachOne_AndExitsByItself()
    {
        // 32 jobs by URL, all held by one silo (its prefetch): 16 in its consumers (its concurrency), fetching their
        // images from a server that answers the even ones 5 s late and the odd ones never while that silo runs (so
        // those can only be handed back), and 16 prefetched behind them.
        const int jobs = 32;
        string queue = $"{cluster.QueueName}-drain";
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(jobs, seed: 1801);
        await using var server = new HeldImageServer([.. images.Select(i => i.Bytes)], held: i => i % 2 == 1, delay: TimeSpan.FromSeconds(5));
        IReadOnlyDictionary<string, string> settings = Settings(queue);
        SiloProcess? first = null, second = null;
        try
        {
            first = await SiloProcess.StartAsync("drain-a", settings);
            string[] jobIds = [.. Enumerable.Range(0, jobs).Select(i => $"{cluster.RunId}-drain-{i}")];
            ISendEndpoint endpoint = await cluster.Bus.GetSendEndpoint(await ScoreQueue.DeclareAsync(TestServers.RabbitMq, queue, CancellationToken.None));
            for (int i = 0; i < jobs; i++)
            {
                await endpoint.Send(new ScoreImages
                {
                    JobId = jobIds[i],
                    Images = [new ImageReference { Name = images[i].Name, Url = server.Url(i) }],
                    SubmittedAt = DateTimeOffset.UtcNow,
                });
            }

            // In flight: none left in the queue (the silo holds all 32), 16 image requests under way.
            await Wait.UntilAsync(() => server.Requested.Count >= 16, LongWait, "16 image requests");
            Assert.Equal(0u, await TestServers.ReadyCountAsync(queue));
            int scoredAtSigterm = cluster.Events.CountScored(jobIds);
            int startedAtSigterm = server.Requested.Count;
            IReadOnlyList<int> workers = first.ChildProcessIds();
            Assert.NotEmpty(workers);

            (int exitCode, TimeSpan drain) = await first.StopAsync();
            int finishedBeforeExit = cluster.Events.CountScored(jobIds);
            int[] started = [.. server.Requested];
            server.Release();
            Assert.True(exitCode == 0, $"drain-a exited with code {exitCode}:\n{first.Log}");
            Assert.True(drain < TimeSpan.FromSeconds(ShutdownSeconds), $"drain-a took {drain.TotalSeconds:0.0} s, past its {ShutdownSeconds} s budget:\n{first.Log}");
            // Its decode workers went with it.
            await Wait.UntilAsync(() => !workers.Any(SiloProcess.IsRunning), TimeSpan.FromSeconds(30), $"drain-a's decode workers ({string.Join(", ", workers)}) exiting");
            Match draining = DrainingLine().Match(first.Log);
            Match drained = DrainedLine().Match(first.Log);
            Assert.True(draining.Success && drained.Success, $"no drain lines in drain-a's log:\n{first.Log}");

            // Another silo on the queue finishes what came back.
            second = await SiloProcess.StartAsync("drain-b", settings);
            Assert.True(await cluster.Events.WaitForScoredAsync(jobIds, LongWait), $"{cluster.Events.CountScored(jobIds)} of {jobs} verdicts arrived.\n{second.Log}");
            foreach (string jobId in jobIds)
            {
                // One publication per job: nothing scored twice, nothing published again by the silo that took it next.
                ImagesScored scored = Assert.Single(cluster.Events.Scored[jobId]);
                Assert.Null(Assert.Single(scored.Verdict.Images).Error);
                Assert.Equal(JobStatus.Completed, (await cluster.Records.GetAsync(jobId))!.Status);
            }

            // A job whose image never came while drain-a ran can only have been handed back: drain-b scored it.
            foreach (int i in started.Where(i => i % 2 == 1))
            {
                string? device = cluster.Events.Scored[jobIds[i]].Single().Verdict.Images[0].Device;
                Assert.True(device?.StartsWith("drain-b/", StringComparison.Ordinal), $"job {i} (held image) was scored on {device}");
            }

            int byFirst = jobIds.Count(id => cluster.Events.Scored[id].Single().Verdict.Images[0].Device?.StartsWith("drain-a/", StringComparison.Ordinal) == true);
            output.WriteLine($"SIGTERM with {jobs - scoredAtSigterm} jobs in flight ({startedAtSigterm} started, {scoredAtSigterm} already " +
                             $"answered; {started.Length} started on drain-a in all): exit code {exitCode} {drain.TotalSeconds:0.0} s later " +
                             $"(budget {ShutdownSeconds} s); drain-a finished {byFirst} ({finishedBeforeExit} verdicts before it exited), " +
                             $"handed back {jobs - byFirst}, which drain-b scored; 0 lost, 0 published twice");
            output.WriteLine($"drain-a: {draining.Value}");
            output.WriteLine($"drain-a: {drained.Value}");
        }
        finally
        {
            server.Release();
            foreach (SiloProcess? silo in new[] { first, second })
            {
                if (silo is not null)
                {
                    await silo.DisposeAsync();
                }
            }

            await TestServers.DeleteQueuesAsync(queue);
        }
    }

    [Fact]
    public async Task RollingRestartOfTwoSilosUnderLoad_LosesNoJob_AndPublishesNoVerdictTwice()
    {
        string queue = $"{cluster.QueueName}-roll";
        IReadOnlyDictionary<string, string> settings = Settings(queue);
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(800, seed: 1802);
        var silos = new List<SiloProcess>();
        var sent = new ConcurrentQueue<string>();
        using var rolled = new CancellationTokenSource();
        try
        {
            silos.Add(await SiloProcess.StartAsync("roll-1", settings));
            silos.Add(await SiloProcess.StartAsync("roll-2", settings));

            // Jobs go on arriving, 8 a second, all through the roll (and at least 300 of them).
            ISendEndpoint endpoint = await cluster.Bus.GetSendEndpoint(await ScoreQueue.DeclareAsync(TestServers.RabbitMq, queue, CancellationToken.None));
            int next = -1;
            async Task SendAsync()
            {
                int i = Interlocked.Increment(ref next);
                if (i < images.Count)
                {
                    ScoreImages command = await cluster.CommandAsync($"{cluster.RunId}-roll-{i}", images[i].Name, images[i].Bytes);
                    await endpoint.Send(command);
                    sent.Enqueue(command.JobId);
                }
            }

            Task sender = Task.Run(async () =>
            {
                while (Volatile.Read(ref next) < images.Count - 1 && (sent.Count < 300 || !rolled.IsCancellationRequested))
                {
                    await SendAsync();
                    await SendAsync();
                    await Task.Delay(250);
                }
            });

            await Wait.UntilAsync(() => cluster.Events.CountScored(sent) >= 30, LongWait, "30 verdicts before the roll");
            var steps = new List<string>();
            foreach (string old in new[] { "roll-1", "roll-2" })
            {
                SiloProcess silo = silos.Single(s => s.Name == old);

                // A burst, so that each silo holds all it may (its prefetch) when the signal comes, however fast the
                // machine scores: 96 jobs, of which the two silos take 64 at once.
                for (int b = 0; b < 96; b++)
                {
                    await SendAsync();
                }

                var waited = Stopwatch.StartNew();
                while (await TestServers.ReadyCountAsync(queue) > 40)
                {
                    Assert.True(waited.Elapsed < LongWait, $"the silos did not take the burst within {LongWait.TotalMinutes} min");
                    await Task.Delay(100);
                }

                int doneBefore = cluster.Events.CountScored(sent);
                (int exitCode, TimeSpan drain) = await silo.StopAsync();
                Assert.True(exitCode == 0, $"{old} exited with code {exitCode}:\n{silo.Log}");
                Assert.True(drain < TimeSpan.FromSeconds(ShutdownSeconds), $"{old} took {drain.TotalSeconds:0.0} s, past its {ShutdownSeconds} s budget:\n{silo.Log}");
                Match draining = DrainingLine().Match(silo.Log);
                Match drained = DrainedLine().Match(silo.Log);
                Assert.True(draining.Success && drained.Success, $"no drain lines in {old}'s log:\n{silo.Log}");
                steps.Add($"{old}: SIGTERM with {sent.Count - doneBefore} jobs sent and unanswered, exit code {exitCode} after {drain.TotalSeconds:0.0} s; {draining.Value}; {drained.Value}");

                var clock = Stopwatch.StartNew();
                string successor = old == "roll-1" ? "roll-3" : "roll-4";
                silos.Add(await SiloProcess.StartAsync(successor, settings));
                steps.Add($"{successor} ready {clock.Elapsed.TotalSeconds:0.0} s later");
            }

            rolled.Cancel();
            await sender;
            string[] jobIds = [.. sent];
            Assert.True(await cluster.Events.WaitForScoredAsync(jobIds, LongWait),
                $"{cluster.Events.CountScored(jobIds)} of {jobIds.Length} verdicts arrived; jobs without one: " +
                $"{string.Join(", ", jobIds.Where(id => !cluster.Events.Scored.ContainsKey(id)).Take(5))}");
            foreach (string jobId in jobIds)
            {
                Assert.Single(cluster.Events.Scored[jobId]);
                Assert.Equal(JobStatus.Completed, (await cluster.Records.GetAsync(jobId))!.Status);
            }

            foreach (string step in steps)
            {
                output.WriteLine(step);
            }

            output.WriteLine($"rolling restart of 2 silos with {jobIds.Length} jobs flowing: {jobIds.Length} verdicts, 0 lost, 0 published twice");
        }
        finally
        {
            rolled.Cancel();
            foreach (SiloProcess silo in silos)
            {
                await silo.DisposeAsync();
            }

            await TestServers.DeleteQueuesAsync(queue);
        }
    }

    [Fact]
    public Task SigtermToTheGatewayWhileARequestWaitsForItsVerdict_AnswersItBeforeExiting() =>
        WhileARequestWaitsAsync("gateway-drain", seed: 1803, gateways: 1, async waiting =>
        {
            GatewayProcess gateway = waiting.Gateways[0];
            (int exitCode, TimeSpan stop) = await gateway.StopAsync();
            HttpResponseMessage response = await waiting.Response;
            string body = await response.Content.ReadAsStringAsync();
            output.WriteLine($"gateway: SIGTERM with one /v1/score waiting; answered {(int)response.StatusCode}, exit code {exitCode} {stop.TotalSeconds:0.0} s after SIGTERM");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}\n{gateway.Log}");
            Assert.Contains(waiting.JobId, body, StringComparison.Ordinal);
            Assert.Equal(0, exitCode);
        });

    [Fact]
    public Task AGatewayKilledWhileARequestWaits_TheCallersRetryThroughAnotherGateway_GetsTheSameVerdict_ScoredOnce() =>
        WhileARequestWaitsAsync("gateway-kill", seed: 1804, gateways: 2, async waiting =>
        {
            waiting.Gateways[0].Kill();
            await Assert.ThrowsAsync<HttpRequestException>(() => waiting.Response);

            // The caller posts the same job again, through the other gateway: the first job's verdict, not a second job.
            GatewayProcess second = waiting.Gateways[1];
            HttpResponseMessage retried = await second.Http.PostAsJsonAsync("/v1/score", waiting.Job);
            string body = await retried.Content.ReadAsStringAsync();
            output.WriteLine($"gateway killed with one /v1/score waiting; the retry through the other answered {(int)retried.StatusCode}");
            Assert.True(retried.StatusCode == HttpStatusCode.OK, $"{(int)retried.StatusCode}: {body}\n{second.Log}");
            Assert.Contains(waiting.JobId, body, StringComparison.Ordinal);
            Assert.Contains("\"status\":\"completed\"", body, StringComparison.Ordinal);
            Assert.Single(waiting.Server.Requested); // fetched and scored once
            Assert.NotNull(await cluster.Events.WaitForAsync(() => cluster.Events.Scored.GetValueOrDefault(waiting.JobId), TimeSpan.FromSeconds(30)));
            Assert.Single(cluster.Events.Scored[waiting.JobId]);
        });

    /// <summary>
    /// A silo and <paramref name="gateways"/> gateways on a queue of their own; a POST /v1/score through the first,
    /// which waits for the verdict over the bus while the silo's image server answers 5 s late; <paramref name="then"/>
    /// runs once the silo has asked for the image, so that the request is still waiting.
    /// </summary>
    private async Task WhileARequestWaitsAsync(string name, int seed, int gateways, Func<WaitingRequest, Task> then)
    {
        string queue = $"{cluster.QueueName}-{name}";
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(1, seed);
        await using var server = new HeldImageServer([images[0].Bytes], held: _ => false, delay: TimeSpan.FromSeconds(5));
        IReadOnlyDictionary<string, string> settings = Settings(queue);
        SiloProcess? silo = null;
        var started = new List<GatewayProcess>();
        try
        {
            silo = await SiloProcess.StartAsync(name, settings);
            for (int i = 0; i < gateways; i++)
            {
                started.Add(await GatewayProcess.StartAsync(cluster, settings));
            }

            string jobId = $"{cluster.RunId}-{name}";
            object job = new { jobId, name = images[0].Name, url = server.Url(0) };
            Task<HttpResponseMessage> response = started[0].Http.PostAsJsonAsync("/v1/score", job);
            await Wait.UntilAsync(() => server.Requested.Count == 1 || response.IsCompleted, LongWait, "the silo fetching the image");
            Assert.False(response.IsCompleted, "the request was answered before the silo had the image");
            await then(new WaitingRequest(started, server, jobId, job, response));
        }
        finally
        {
            foreach (GatewayProcess gateway in started)
            {
                await gateway.DisposeAsync();
            }

            if (silo is not null)
            {
                await silo.DisposeAsync();
            }

            await TestServers.DeleteQueuesAsync(queue);
        }
    }

    private sealed record WaitingRequest(IReadOnlyList<GatewayProcess> Gateways, HeldImageServer Server, string JobId, object Job, Task<HttpResponseMessage> Response);

    private IReadOnlyDictionary<string, string> Settings(string queue)
    {
        Dictionary<string, string> settings = new(cluster.SiloSettings)
        {
            ["ArtGrid__Bus__QueueName"] = queue,
            ["ArtGrid__Silo__ShutdownSeconds"] = ShutdownSeconds.ToString(CultureInfo.InvariantCulture),
            ["ArtGrid__UrlFetch__Enabled"] = "true",
            ["ArtGrid__UrlFetch__AllowedHosts__0"] = "127.0.0.1",
            ["ArtGrid__UrlFetch__AllowPrivateNetworks"] = "true",
            // A held image waits for the drain's cancellation, not for the fetch's own limit.
            ["ArtGrid__UrlFetch__TimeoutSeconds"] = "120",
        };
        return settings;
    }

    [GeneratedRegex(@"draining: \d+ jobs in flight[^\n]*")]
    private static partial Regex DrainingLine();

    [GeneratedRegex(@"drained in [\d.]+ s: \d+ finished, \d+ handed back[^\n]*")]
    private static partial Regex DrainedLine();
}
