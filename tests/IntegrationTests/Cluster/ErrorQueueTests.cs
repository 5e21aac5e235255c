using System.Diagnostics;
using System.Text;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A run of its own on a RabbitMQ of its own with the management plugin (the API deploy/requeue-errors.sh uses), and no
/// silo on the shared Redis: the test's silo uses a Redis of its own.
/// </summary>
public sealed class ErrorQueueFixture : IAsyncLifetime
{
    private PrivateRabbitMq? _rabbit;
    private ServersFixture? _servers;

    public PrivateRabbitMq Rabbit => _rabbit ?? throw new InvalidOperationException("The fixture has not started.");

    public ServersFixture Servers => _servers ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync()
    {
        _rabbit = await PrivateRabbitMq.StartAsync(offset: 200);
        _servers = new ServersFixture { SiloCount = 0, RabbitMq = _rabbit.Address };
        await _servers.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }

        if (_rabbit is not null)
        {
            await _rabbit.DisposeAsync();
        }
    }
}

/// <summary>
/// Redis gone for longer than the bus's retries: the command ends in the queue's error queue with MassTransit's fault
/// headers and a <c>Fault&lt;ScoreImages&gt;</c> is published, nothing scored; once Redis is back, the operator's
/// deploy/requeue-errors.sh puts it back (dry run first, then --yes) with its properties, and the job gets one verdict.
/// </summary>
public sealed class ErrorQueueTests(ErrorQueueFixture fixture, ITestOutputHelper output) : IClassFixture<ErrorQueueFixture>
{
    // Production's are 12 retries backing off from 0.5 s to 30 s; these are set the same way, through configuration.
    private const int RetryLimit = 3;

    [Fact]
    public async Task RedisGoneLongerThanTheRetries_TheJobEndsInTheErrorQueueWithAFault_AndTheRequeueScriptGivesItOneVerdict()
    {
        ServersFixture cluster = fixture.Servers;
        string errorQueue = cluster.QueueName + "_error";
        await using PrivateRedis redis = await PrivateRedis.StartAsync();
        var settings = new Dictionary<string, string>(cluster.SiloSettings)
        {
            ["ConnectionStrings__Redis"] = redis.Address,
            ["ArtGrid__Bus__RetryLimit"] = RetryLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ArtGrid__Bus__RetryMinSeconds"] = "0.5",
            ["ArtGrid__Bus__RetryMaxSeconds"] = "2",

            // Off, a job waits for Redis through the retries instead of being scored without it (RedisOutageTests).
            ["ArtGrid__Bus__ScoreWithoutRedis"] = "false",
        };

        // An image carried in the message (nothing of the job is in the Redis that goes away), sent with a priority.
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 71)[0];
        var job = new ScoreImages
        {
            JobId = $"{cluster.RunId}-exhausted",
            Images = [new ImageReference { Name = name, Data = await new ImageData(cluster.MessageData).OfAsync(bytes) }],
            Priority = 7,
            SubmittedAt = DateTimeOffset.UtcNow,
        };
        Assert.True(ImageData.IsInline(job.Images[0].Data));

        SiloProcess silo = await SiloProcess.StartAsync("retries-1", settings);
        bool siloStopped = false;
        Parked parked;
        try
        {
            await redis.StopAsync();
            var clock = Stopwatch.StartNew();
            ISendEndpoint endpoint = await cluster.Bus.GetSendEndpoint(cluster.Queue);
            await endpoint.Send(job, context => context.SetPriority(job.Priority));

            // Every retry fails: a fault is published and the command is parked in the error queue.
            Fault<ScoreImages>? fault = await cluster.Events.WaitForAsync(
                () => cluster.Events.Faults.FirstOrDefault(f => f.Message.JobId == job.JobId), TimeSpan.FromMinutes(3));
            Assert.True(fault is not null, $"no fault for {job.JobId} within 3 minutes.\n{string.Join('\n', silo.Log.Split('\n').TakeLast(60))}");
            output.WriteLine($"retries exhausted {clock.Elapsed.TotalSeconds:0.0} s after the job was sent: {fault.Exceptions[0].ExceptionType}: {fault.Exceptions[0].Message}");
            Assert.Contains("Redis", fault.Exceptions[0].ExceptionType + fault.Exceptions[0].Message, StringComparison.Ordinal);
            parked = await WaitForOneParkedAsync(cluster.RabbitMq, errorQueue);
            output.WriteLine($"in {errorQueue}: {parked.MessageId}, priority {parked.Priority}, {parked.Header("MT-Fault-ExceptionType")}: {parked.Header("MT-Fault-Message")}");
            Assert.Equal("fault", parked.Header("MT-Reason"));
            Assert.False(string.IsNullOrWhiteSpace(parked.Header("MT-Fault-ExceptionType")));
            Assert.False(string.IsNullOrWhiteSpace(parked.Header("MT-Fault-Message")));
            Assert.Contains(job.JobId, parked.Body, StringComparison.Ordinal);
            Assert.False(cluster.Events.Scored.ContainsKey(job.JobId), "the job was scored while Redis was away");

            // The silo is stopped, so that what the script puts back can be looked at in the queue before it is taken.
            await silo.DisposeAsync();
            siloStopped = true;
        }
        finally
        {
            if (!siloStopped)
            {
                await silo.DisposeAsync();
            }
        }

        await redis.StartAgainAsync();

        // The dry run lists it and moves nothing.
        string batches = Directory.CreateTempSubdirectory("artgrid-requeue-").FullName;
        var environment = new Dictionary<string, string> { ["ARTGRID_REQUEUE_DIR"] = batches };
        (int exit, string stdout, string stderr) = await fixture.Rabbit.RunScriptAsync("requeue-errors.sh", environment, cluster.QueueName);
        output.WriteLine(stdout + stderr);
        Assert.True(exit == 0, $"the dry run failed ({exit}): {stdout}{stderr}");
        Assert.Contains($"{errorQueue} holds 1 message(s) (dry run: nothing moved", stdout, StringComparison.Ordinal);
        Assert.Contains(parked.MessageId, stdout, StringComparison.Ordinal);
        Assert.Equal(parked.MessageId, (await WaitForOneParkedAsync(cluster.RabbitMq, errorQueue)).MessageId);

        // --yes moves it, as it was, to the queue.
        (exit, stdout, stderr) = await fixture.Rabbit.RunScriptAsync("requeue-errors.sh", environment, "--yes", cluster.QueueName);
        output.WriteLine(stdout + stderr);
        Assert.True(exit == 0, $"the requeue failed ({exit}): {stdout}{stderr}");
        Assert.Contains($"moved 1 message(s) from {errorQueue} to {cluster.QueueName}", stdout, StringComparison.Ordinal);
        Assert.Equal(0u, await CountAsync(cluster.RabbitMq, errorQueue));
        Assert.Empty(Directory.EnumerateFileSystemEntries(batches));
        Directory.Delete(batches);
        Parked requeued = await WaitForOneParkedAsync(cluster.RabbitMq, cluster.QueueName);
        Assert.Equal(parked.MessageId, requeued.MessageId);
        Assert.Equal(parked.Priority, requeued.Priority);
        Assert.Equal(parked.Body, requeued.Body);
        Assert.Equal(parked.Header("MT-Fault-Message"), requeued.Header("MT-Fault-Message"));

        // A silo takes it: one verdict, the record completed, and no second fault.
        await using SiloProcess again = await SiloProcess.StartAsync("retries-2", settings);
        Assert.NotNull(await cluster.Events.WaitForAsync(() => cluster.Events.Scored.GetValueOrDefault(job.JobId), TimeSpan.FromMinutes(2)));
        await Task.Delay(TimeSpan.FromSeconds(2)); // room for a second publication to show up, were there one
        ImagesScored verdict = Assert.Single(cluster.Events.Scored[job.JobId]);
        Assert.Null(verdict.Verdict.Images[0].Error);
        await using var connection = new RedisConnection(redis.Address);
        Assert.Equal(JobStatus.Completed, (await new RedisJobRecords(connection, TimeSpan.FromHours(1)).GetAsync(job.JobId))?.Status);
        Assert.Single(cluster.Events.Faults, f => f.Message.JobId == job.JobId);
        Assert.Equal(0u, await CountAsync(cluster.RabbitMq, errorQueue));
    }

    /// <summary>A message looked at and put back in its queue.</summary>
    private sealed record Parked(string MessageId, byte Priority, string Body, IDictionary<string, object?> Headers)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out object? value)
            ? value switch { byte[] bytes => Encoding.UTF8.GetString(bytes), _ => value?.ToString() }
            : null;
    }

    /// <summary>Waits (a minute at most) until <paramref name="queue"/> holds exactly one message, and looks at it, putting it back.</summary>
    private static async Task<Parked> WaitForOneParkedAsync(Uri rabbitMq, string queue)
    {
        var factory = new ConnectionFactory { Uri = rabbitMq };
        await using IConnection connection = await factory.CreateConnectionAsync();
        var clock = Stopwatch.StartNew();
        uint count = 0;
        while (clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            await using IChannel channel = await connection.CreateChannelAsync();
            try
            {
                count = (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
                if (count == 1 && await channel.BasicGetAsync(queue, autoAck: false) is { } message)
                {
                    var parked = new Parked(
                        message.BasicProperties.MessageId ?? "",
                        message.BasicProperties.Priority,
                        Encoding.UTF8.GetString(message.Body.Span),
                        message.BasicProperties.Headers ?? new Dictionary<string, object?>());
                    await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true);
                    return parked;
                }
            }
            catch (OperationInterruptedException)
            {
                // The error queue does not exist until MassTransit moves the first message there.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{queue} held {count} message(s), not 1, for a minute");
    }

    private static async Task<uint> CountAsync(Uri rabbitMq, string queue)
    {
        var factory = new ConnectionFactory { Uri = rabbitMq };
        await using IConnection connection = await factory.CreateConnectionAsync();
        await using IChannel channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }
}
