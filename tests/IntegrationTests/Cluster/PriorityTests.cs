using System.Globalization;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// Job priorities on the real broker and real silo processes: the command queue is declared with x-max-priority by the
/// silos and by every sender alike, whichever comes first, so that high-priority jobs overtake a backlog; a queue left
/// from before priorities stops a silo with the migration to run.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class PriorityTests(ServersFixture cluster, ITestOutputHelper output)
{
    /// <summary>
    /// One silo that scores one job at a time (ConcurrentMessageLimit 1) and holds at most <c>Prefetch</c> unacknowledged:
    /// its first job fetches an image from a server that holds the answer, so the silo is busy with it while the backlog
    /// (priority 0) and then the high-priority jobs (9) are sent. The broker then keeps every job but the silo's
    /// prefetch, which the test reads from the broker before releasing the gate. From there the order is the broker's:
    /// every high-priority job must finish before every backlog job that was still waiting in the broker (on a queue
    /// without x-max-priority they would all finish after it). Nothing here depends on timing.
    /// </summary>
    [Fact]
    public async Task HighPriorityJobsOvertakeTheBacklogWaitingInTheBroker()
    {
        const int prefetch = 4, backlog = 60, high = 12;
        string queue = $"{cluster.QueueName}-prio";
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(5, seed: 1901);
        await using var gate = new HeldImageServer([images[0].Bytes], held: _ => true, delay: TimeSpan.Zero);
        Dictionary<string, string> settings = new(cluster.SiloSettings)
        {
            ["ArtGrid__Bus__QueueName"] = queue,
            ["ArtGrid__Bus__ConcurrentMessageLimit"] = "1",
            ["ArtGrid__Bus__PrefetchCount"] = prefetch.ToString(CultureInfo.InvariantCulture),
            ["ArtGrid__UrlFetch__Enabled"] = "true",
            ["ArtGrid__UrlFetch__AllowedHosts__0"] = "127.0.0.1",
            ["ArtGrid__UrlFetch__AllowPrivateNetworks"] = "true",
            ["ArtGrid__UrlFetch__TimeoutSeconds"] = "300",
        };
        SiloProcess? silo = null;
        try
        {
            silo = await SiloProcess.StartAsync("prio-1", settings);
            ISendEndpoint endpoint = await cluster.Bus.GetSendEndpoint(await ScoreQueue.DeclareAsync(TestServers.RabbitMq, queue, CancellationToken.None));

            string gateJob = $"{cluster.RunId}-prio-gate";
            await endpoint.Send(new ScoreImages { JobId = gateJob, Images = [new ImageReference { Name = "gate.jpg", Url = gate.Url(0) }], SubmittedAt = DateTimeOffset.UtcNow });
            Assert.True(await Task.WhenAny(gate.FirstRequest, Task.Delay(TimeSpan.FromMinutes(2))) == gate.FirstRequest, "the silo never fetched the gate image:\n" + silo.Log);

            // The images' bytes go to the claim check once; every job refers to them (a silo reads, never deletes, them).
            MessageData<byte[]>[] data = await Task.WhenAll(images.Skip(1).Select(i => ImageData.ClaimCheckAsync(cluster.MessageData, i.Bytes)));
            string[] backlogJobs = [.. Enumerable.Range(0, backlog).Select(i => $"{cluster.RunId}-prio-low-{i}")];
            string[] highJobs = [.. Enumerable.Range(0, high).Select(i => $"{cluster.RunId}-prio-high-{i}")];
            async Task SendAsync(string jobId, int index, byte priority) => await endpoint.Send(
                new ScoreImages { JobId = jobId, Images = [new ImageReference { Name = $"{index}.jpg", Data = data[index % data.Length] }], Priority = priority, SubmittedAt = DateTimeOffset.UtcNow },
                context => context.SetPriority(priority));
            for (int i = 0; i < backlog; i++)
            {
                await SendAsync(backlogJobs[i], i, 0);
            }

            for (int i = 0; i < high; i++)
            {
                await SendAsync(highJobs[i], i, ScoreQueue.MaxPriority);
            }

            // The silo holds the gate and prefetch - 1 backlog jobs; the broker everything else (waiting, not timing).
            uint expectedReady = (uint)(backlog - (prefetch - 1) + high);
            uint ready = 0;
            for (var waited = System.Diagnostics.Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromMinutes(1); await Task.Delay(100))
            {
                if ((ready = await TestServers.ReadyCountAsync(queue)) == expectedReady)
                {
                    break;
                }
            }

            Assert.Equal(expectedReady, ready);
            string[] waiting = backlogJobs[(prefetch - 1)..];

            gate.Release();
            string[] all = [gateJob, .. backlogJobs, .. highJobs];
            Assert.True(await cluster.Events.WaitForScoredAsync(all, TimeSpan.FromMinutes(5)), "not every job was scored:\n" + silo.Log);
            Dictionary<string, DateTimeOffset> completed = [];
            foreach (string job in all)
            {
                JobRecord record = (await cluster.Records.GetAsync(job))!;
                Assert.Equal(JobStatus.Completed, record.Status);
                completed[job] = record.CompletedAt!.Value;
            }

            string[] order = [.. all.OrderBy(j => completed[j]).Select(j => j.Replace($"{cluster.RunId}-prio-", "", StringComparison.Ordinal))];
            output.WriteLine($"completion order: {string.Join(' ', order)}");
            DateTimeOffset lastHigh = highJobs.Max(j => completed[j]);
            DateTimeOffset firstWaiting = waiting.Min(j => completed[j]);
            Assert.True(lastHigh < firstWaiting, $"a backlog job that waited in the broker finished before a high-priority job: {string.Join(' ', order)}");
        }
        finally
        {
            if (silo is not null)
            {
                await silo.DisposeAsync();
            }

            await TestServers.DeleteQueuesAsync(queue);
        }
    }

    /// <summary>
    /// The sender first: jobs sent to a queue no silo has declared yet wait in it (the sender declared it, with its
    /// priority), and a silo started afterwards declares it the same way (no PRECONDITION_FAILED) and scores them. Then
    /// another sender, <c>artgrid submit --priority</c>, declares the queue the silo holds and gets its verdict.
    /// </summary>
    [Fact]
    public async Task ASenderAndASiloAgreeOnTheQueueInEitherStartOrder()
    {
        string queue = $"{cluster.QueueName}-order";
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(3, seed: 1902);
        SiloProcess? silo = null;
        try
        {
            ISendEndpoint endpoint = await cluster.Bus.GetSendEndpoint(await ScoreQueue.DeclareAsync(TestServers.RabbitMq, queue, CancellationToken.None));
            string[] jobs = [.. images.Select((_, i) => $"{cluster.RunId}-order-{i}")];
            for (int i = 0; i < jobs.Length; i++)
            {
                ScoreImages command = await cluster.CommandAsync(jobs[i], images[i].Name, images[i].Bytes);
                await endpoint.Send(command with { Priority = (byte)(i * 4) }, context => context.SetPriority((byte)(i * 4)));
            }

            Assert.Equal((uint)jobs.Length, await TestServers.ReadyCountAsync(queue));

            silo = await SiloProcess.StartAsync("order-1", new Dictionary<string, string>(cluster.SiloSettings) { ["ArtGrid__Bus__QueueName"] = queue });
            Assert.True(await cluster.Events.WaitForScoredAsync(jobs, TimeSpan.FromMinutes(3)), "the jobs sent before the silo started were not scored:\n" + silo.Log);

            string file = Path.Combine(Path.GetTempPath(), $"{cluster.RunId}-order.jpg");
            await File.WriteAllBytesAsync(file, cluster.DistinctImages(1, seed: 1903)[0].Bytes);
            try
            {
                (int exit, string stdout, string stderr) = await CliTests.RunAsync(
                    "submit", file, "--wait", "--priority", "7", "--timeout", "120",
                    "--bus", TestServers.RabbitMq.ToString(), "--redis", TestServers.Redis, "--queue", queue);
                Assert.True(exit == 0, stderr);
                using var line = JsonDocument.Parse(stdout.Trim());
                Assert.Equal(JsonValueKind.Null, line.RootElement.GetProperty("error").ValueKind);
                Assert.Contains(line.RootElement.GetProperty("label").GetString(), new[] { "ai", "human", "uncertain" });
            }
            finally
            {
                File.Delete(file);
            }

            Assert.DoesNotContain("PRECONDITION_FAILED", silo.Log, StringComparison.Ordinal);
            Assert.False(silo.HasExited);
        }
        finally
        {
            if (silo is not null)
            {
                await silo.DisposeAsync();
            }

            await TestServers.DeleteQueuesAsync(queue);
        }
    }

    /// <summary>
    /// A queue as an ArtGrid release before priorities declared it (no arguments): a silo does not start (exit code 3)
    /// and its log names the migration; a sender's declaration is refused with the same advice, instead of hanging.
    /// </summary>
    [Fact]
    public async Task AQueueDeclaredWithoutPriority_StopsTheSiloWithTheMigrationToRun()
    {
        string queue = $"{cluster.QueueName}-legacy";
        try
        {
            await DeclareLegacyQueueAsync(TestServers.RabbitMq, queue);

            var refused = await Assert.ThrowsAsync<ScoreQueueMismatchException>(() => ScoreQueue.DeclareAsync(TestServers.RabbitMq, queue, CancellationToken.None));
            Assert.Contains(ScoreQueue.Migration, refused.Message, StringComparison.Ordinal);

            var failed = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                SiloProcess.StartAsync("legacy-1", new Dictionary<string, string>(cluster.SiloSettings) { ["ArtGrid__Bus__QueueName"] = queue }, waitFor: "/health/live"));
            output.WriteLine(failed.Message);
            Assert.Contains("it exited with code 3", failed.Message, StringComparison.Ordinal);
            Assert.Contains(ScoreQueue.Migration, failed.Message, StringComparison.Ordinal);
            Assert.Contains("inequivalent arg 'x-max-priority'", failed.Message, StringComparison.Ordinal);
        }
        finally
        {
            await TestServers.DeleteQueuesAsync(queue);
        }
    }

    /// <summary>The exchange, queue and binding as MassTransit declared them for a "queue:NAME" address: no arguments.</summary>
    internal static async Task DeclareLegacyQueueAsync(Uri rabbitMq, string queue)
    {
        var factory = new ConnectionFactory { Uri = rabbitMq };
        await using IConnection connection = await factory.CreateConnectionAsync();
        await using IChannel channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(queue, ExchangeType.Fanout, durable: true, autoDelete: false);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, queue, "");
    }

}
