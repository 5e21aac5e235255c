using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using RabbitMQ.Client;

namespace ArtGrid.Bench;

/// <summary>
/// The "priority" part of <c>artgrid-bench queue</c>: whether high-priority jobs overtake a backlog. B jobs at priority 0
/// (the backlog) go to the run's queue through the bus, one after the other, then at once H jobs at priority 9; every job
/// is one image of the run's images (after the cached part they are cached, so a job is quick), its bytes claim-checked
/// once per image. Just before the first high-priority job is sent, the broker's count of the queue's ready messages is
/// read: W, the backlog jobs still waiting in the broker (the last W sent: jobs of one priority leave a queue in the order
/// they came). The silos are paused (SIGSTOP) while all the jobs are sent and go on (SIGCONT) once they are in: however
/// fast the machine scores, the backlog is then in the broker behind what the silos had prefetched, as a real backlog
/// is, instead of draining while it is sent (on a quiet machine it did, and W was 0). A job finishes when its verdict event (<c>ImagesScored</c>) reaches the bench.
/// <para>
/// <c>priority_overtake</c> is, for each high-priority job, the share of those W waiting backlog jobs that finished after
/// it, averaged over the H high-priority jobs (the same as the share of (high-priority, waiting backlog) pairs in which
/// the high-priority job finished first). 0 = FIFO: every high-priority job finished after every backlog job waiting
/// ahead of it; 1 = every high-priority job overtook them all. Also: the share of high-priority jobs that finished
/// before every waiting backlog job, and the p50 latency (send to verdict) of each kind.
/// </para>
/// </summary>
internal static class PriorityOvertakeBench
{
    private const byte Low = 0;
    private const byte High = ScoreQueue.MaxPriority;

    public static async Task<IReadOnlyDictionary<string, double>> RunAsync(QueueBenchContext context, CancellationToken cancellationToken)
    {
        int backlog = context.Quick ? 400 : 2_000;
        int high = context.Quick ? 40 : 200;
        await QueueBench.EnsureSilosAsync(context, cancellationToken);

        var finished = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var rejected = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        string prefix = $"{context.Cluster.RunId}-prio-";
        await using var redis = new RedisConnection(context.Redis);
        var messageData = new RedisMessageDataRepository(redis, TimeSpan.FromHours(1));
        IBusControl bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.UseArtGrid(context.Amqp, messageData);
            rabbit.ReceiveEndpoint($"artgrid-bench-priority-{context.Cluster.RunId}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<ImagesScored>(c => Record(c.Message.JobId));
                endpoint.Handler<ScoreImagesRejected>(c =>
                {
                    rejected[c.Message.JobId] = c.Message.Reason;
                    return Record(c.Message.JobId);
                });
            });

            Task Record(string jobId)
            {
                if (jobId.StartsWith(prefix, StringComparison.Ordinal))
                {
                    finished.TryAdd(jobId, Stopwatch.GetTimestamp());
                }

                return Task.CompletedTask;
            }
        });
        await bus.StartAsync(cancellationToken);
        try
        {
            ISendEndpoint endpoint = await bus.GetSendEndpoint(await ScoreQueue.DeclareAsync(context.Amqp, context.Cluster.QueueName, cancellationToken));
            Progress.Say($"priority: claim-checking {context.Images.Count} images");
            MessageData<byte[]>[] data = new MessageData<byte[]>[context.Images.Count];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = await ImageData.ClaimCheckAsync(messageData, await File.ReadAllBytesAsync(context.Images[i], cancellationToken), cancellationToken);
            }

            var sentAt = new Dictionary<string, long>(StringComparer.Ordinal);
            async Task SendAsync(string jobId, int index, byte priority)
            {
                var command = new ScoreImages
                {
                    JobId = jobId,
                    Images = [new ImageReference { Name = Path.GetFileName(context.Images[index % data.Length]), Data = data[index % data.Length] }],
                    Priority = priority,
                    SubmittedAt = DateTimeOffset.UtcNow,
                };
                sentAt[jobId] = Stopwatch.GetTimestamp();
                await endpoint.Send(command, c => c.SetPriority(priority), cancellationToken);
            }

            string[] backlogJobs = [.. Enumerable.Range(0, backlog).Select(i => $"{prefix}low-{i}")];
            string[] highJobs = [.. Enumerable.Range(0, high).Select(i => $"{prefix}high-{i}")];
            Progress.Say($"priority: {backlog} backlog jobs at priority {Low}, then {high} at {High}, sent while the silos are paused");
            int waiting;
            Signal(context, "STOP");
            try
            {
                for (int i = 0; i < backlog; i++)
                {
                    await SendAsync(backlogJobs[i], i, Low);
                }

                uint ready = await ReadyAsync(context.Amqp, context.Cluster.QueueName, cancellationToken);
                waiting = (int)Math.Min(ready, (uint)backlog);
                for (int i = 0; i < high; i++)
                {
                    await SendAsync(highJobs[i], backlog + i, High);
                }
            }
            finally
            {
                Signal(context, "CONT");
            }

            string[] all = [.. backlogJobs, .. highJobs];
            var clock = Stopwatch.StartNew();
            TimeSpan limit = TimeSpan.FromMinutes(context.Quick ? 5 : 20);
            while (all.Any(j => !finished.ContainsKey(j)))
            {
                if (clock.Elapsed > limit)
                {
                    throw new TimeoutException($"priority: {all.Count(j => !finished.ContainsKey(j))} of {all.Length} jobs had no verdict after {limit.TotalMinutes:0} min");
                }

                await Task.Delay(100, cancellationToken);
            }

            string[] waitingJobs = backlogJobs[(backlog - waiting)..];
            double[] shares = [.. highJobs.Select(h => waiting == 0 ? double.NaN : waitingJobs.Count(b => finished[b] > finished[h]) / (double)waiting)];
            double overtake = shares.Average();
            double beforeAll = highJobs.Count(h => waitingJobs.All(b => finished[b] > finished[h])) / (double)high;
            double Latency(string job) => Stopwatch.GetElapsedTime(sentAt[job], finished[job]).TotalMilliseconds;
            double highP50 = Stats.Percentile(highJobs.Select(Latency), 50);
            double backlogP50 = Stats.Percentile(backlogJobs.Select(Latency), 50);
            double waitingP50 = waiting == 0 ? double.NaN : Stats.Percentile(waitingJobs.Select(Latency), 50);

            new Table("backlog", "high", "waiting in broker", "overtake share", "high before all waiting", "high p50 ms", "backlog p50 ms", "waiting p50 ms", "rejected")
                .Row(backlog, high, waiting, overtake, beforeAll, highP50, backlogP50, waitingP50, rejected.Count)
                .Print($"priority: {high} jobs at priority {High} sent right after {backlog} at {Low} ({context.Silos} silos)");

            Directory.CreateDirectory(context.OutDir);
            string raw = Path.Combine(context.OutDir, $"priority-overtake-{context.Cluster.RunId}.json");
            await File.WriteAllTextAsync(raw, JsonSerializer.Serialize(new
            {
                backlog,
                high,
                waiting,
                overtake,
                beforeAll,
                highP50,
                backlogP50,
                waitingP50,
                finishOrder = all.OrderBy(j => finished[j]).Select(j => j[prefix.Length..]),
            }, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }), CancellationToken.None);
            Progress.Say($"priority: raw numbers in {raw}");

            return new Dictionary<string, double>
            {
                ["priority_overtake"] = overtake,
                ["priority_high_before_all"] = beforeAll,
                ["priority_waiting"] = waiting,
                ["priority_high_p50_ms"] = highP50,
                ["priority_backlog_p50_ms"] = backlogP50,
            };
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The queue's ready messages (delivered to no silo yet), by a passive declare.</summary>
    /// <summary>Sends SIGSTOP or SIGCONT (<paramref name="signal"/>) to every silo of the run.</summary>
    private static void Signal(QueueBenchContext context, string signal)
    {
        foreach (ChildProcess silo in context.Cluster.Silos.Where(s => !s.HasExited))
        {
            using Process kill = Process.Start("kill", [$"-{signal}", silo.Id.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    private static async Task<uint> ReadyAsync(Uri amqp, string queue, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = amqp };
        await using IConnection connection = await factory.CreateConnectionAsync(cancellationToken);
        await using IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        return (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
    }
}
