using System.Collections.Concurrent;
using System.Diagnostics;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// Two real silo processes in cluster mode on the real Redis and RabbitMQ that the test command started, plus a bus
/// in the test process that sends commands and records every event. Each fixture has its own cluster id, service id
/// (Redis key space) and queue, so runs never see each other's state.
/// </summary>
public sealed class ServersFixture : IAsyncLifetime
{
    private readonly List<SiloProcess> _silos = [];
    private IBusControl? _bus;

    public string RunId { get; } = "t" + Guid.NewGuid().ToString("N")[..10];

    public string QueueName => $"score-images-{RunId}";

    /// <summary>Where commands are sent: the queue as every sender declares it (<see cref="ScoreQueue"/>).</summary>
    public Uri Queue => ScoreQueue.SendAddress(QueueName);

    public EventLog Events { get; } = new();

    /// <summary>The broker of the run: the shared test RabbitMQ unless a fixture of its own brings one (<see cref="PrivateRabbitMq"/>).</summary>
    public Uri RabbitMq { get; init; } = TestServers.RabbitMq;

    public RedisConnection Redis { get; } = new(TestServers.Redis);

    public RedisJobRecords Records => new(Redis, TimeSpan.FromHours(1));

    public IMessageDataRepository MessageData => new RedisMessageDataRepository(Redis, TimeSpan.FromHours(1));

    public IBus Bus => _bus ?? throw new InvalidOperationException("The fixture has not started.");

    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>The end of every silo's log, for failure messages.</summary>
    public string LogTails(int lines = 40) => string.Join("\n", _silos.Select(s =>
        $"--- {s.Name}{(s.HasExited ? " (exited)" : "")} ---\n" + string.Join('\n', s.Log.Split('\n').TakeLast(lines))));

    /// <summary>How many silos the fixture starts (two unless a fixture of its own asks otherwise).</summary>
    public int SiloCount { get; init; } = 2;

    /// <summary>Settings added to (or replacing) the defaults of <see cref="SiloSettings"/>, for a fixture with silos of its own.</summary>
    public IReadOnlyDictionary<string, string> ExtraSettings { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> SiloSettings
    {
        get
        {
            Dictionary<string, string> settings = DefaultSiloSettings;
            foreach ((string key, string value) in ExtraSettings)
            {
                settings[key] = value;
            }

            return settings;
        }
    }

    private Dictionary<string, string> DefaultSiloSettings => new(TestClusterSettings)
    {
        ["ArtGrid__Silo__ClusterId"] = RunId,
        ["ArtGrid__Silo__ServiceId"] = RunId,
        ["ArtGrid__Bus__QueueName"] = QueueName,
        ["ConnectionStrings__RabbitMq"] = RabbitMq.ToString(),
    };

    /// <summary>What every test cluster's silos run with, beside their addresses and ids.</summary>
    public static IReadOnlyDictionary<string, string> TestClusterSettings { get; } = new Dictionary<string, string>
    {
        // Shorter retries than production's (12, up to 30 s apart), so that a test that exhausts them ends soon; enough
        // of them (about 90 s in all) to ride out a dead silo being noticed and a server restart on a loaded machine:
        // 8 s apart at most once lost 2 of 1000 jobs in the silo-kill test under a full suite on 2 cores.
        ["ArtGrid__Bus__RetryLimit"] = "10",
        ["ArtGrid__Bus__RetryMinSeconds"] = "0.5",
        ["ArtGrid__Bus__RetryMaxSeconds"] = "15",
        // Notice a killed silo in seconds rather than Orleans' production defaults.
        ["Orleans__Membership__ProbeTimeout"] = "00:00:02",
        ["Orleans__Membership__NumMissedProbesLimit"] = "2",
        // Several silos share this machine's cores: one ONNX Runtime thread each instead of all claiming every core.
        ["ArtGrid__Inference__IntraOpThreads"] = "1",
        ["Logging__LogLevel__Default"] = "Information",
        ["Logging__LogLevel__Orleans"] = "Warning",
        ["Logging__LogLevel__MassTransit"] = "Warning",
    };

    public async Task InitializeAsync()
    {
        await TestServers.EnsureRunningAsync();
        await EnsureSilosAsync(SiloCount);
        await ScoreQueue.DeclareAsync(RabbitMq, QueueName, CancellationToken.None);
        _bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.UseArtGrid(RabbitMq, MessageData);
            // Durable, so that events published while the broker restarts or the test bus reconnects are kept.
            rabbit.ReceiveEndpoint($"artgrid-test-events-{RunId}", endpoint =>
            {
                endpoint.Handler<ImagesScored>(context => Events.Add(context.Message));
                endpoint.Handler<ScoreImagesRejected>(context => Events.Add(context.Message));
                endpoint.Handler<Fault<ScoreImages>>(context => Events.Add(context.Message));
            });
        });
        await _bus.StartAsync();
    }

    /// <summary>Starts silos until <paramref name="count"/> are running (after a test killed one).</summary>
    public async Task EnsureSilosAsync(int count)
    {
        _silos.RemoveAll(s => s.HasExited);
        for (int i = 1; _silos.Count < count; i++)
        {
            string name = $"silo-{i}";
            if (_silos.All(s => s.Name != name))
            {
                _silos.Add(await SiloProcess.StartAsync(name, SiloSettings));
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        foreach (SiloProcess silo in _silos)
        {
            await silo.DisposeAsync();
        }

        // The event queue is durable (it must survive a broker restart mid-test), so it would go on collecting every
        // event published on a developer's broker after the run: remove it, and this run's command queues.
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = RabbitMq };
        await using (RabbitMQ.Client.IConnection connection = await factory.CreateConnectionAsync())
        {
            foreach (string queue in new[] { $"artgrid-test-events-{RunId}", QueueName, QueueName + "_error" })
            {
                await using RabbitMQ.Client.IChannel channel = await connection.CreateChannelAsync();
                await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
            }
        }

        await Redis.DisposeAsync();
    }

    /// <summary>A command for one image, its bytes claim-checked in Redis as a producer would.</summary>
    public async Task<ScoreImages> CommandAsync(string jobId, string name, byte[] bytes) => new()
    {
        JobId = jobId,
        Images = [new ImageReference { Name = name, Data = await ImageData.ClaimCheckAsync(MessageData, bytes) }],
        // A handful of authors, so that author grains (Redis storage) are part of every run.
        Metadata = new JobMetadata(Author: $"author-{jobId[^1]}", Source: "integration-test"),
        SubmittedAt = DateTimeOffset.UtcNow,
    };

    public async Task SendAllAsync(IEnumerable<ScoreImages> commands)
    {
        ISendEndpoint endpoint = await Bus.GetSendEndpoint(Queue);
        foreach (ScoreImages command in commands)
        {
            await endpoint.Send(command);
        }
    }

    /// <summary>
    /// <paramref name="count"/> different real images, never seen by the Redis cache of an earlier run
    /// (<see cref="TestImages.Distinct"/>, marked with this run's id).
    /// </summary>
    public IReadOnlyList<(string Name, byte[] Bytes)> DistinctImages(int count, int seed) => TestImages.Distinct(RunId, count, seed);

    /// <summary>
    /// The job's record once it is marked published (the mark is sent without waiting for Redis, so it is read until it
    /// shows, for up to 10 s), else the record as it last stood.
    /// </summary>
    public async Task<JobRecord?> PublishedRecordAsync(string jobId)
    {
        JobRecord? record = null;
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(10) && record?.PublishedAt is null; await Task.Delay(50))
        {
            record = await Records.GetAsync(jobId);
        }

        return record;
    }
}

/// <summary>Every event the test bus received, by job id, with arrival times.</summary>
public sealed class EventLog
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ConcurrentDictionary<string, ConcurrentQueue<ImagesScored>> Scored { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, ConcurrentQueue<ScoreImagesRejected>> Rejected { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<Fault<ScoreImages>> Faults { get; } = new();

    public ConcurrentQueue<TimeSpan> ScoredArrivals { get; } = new();

    public TimeSpan Now => _clock.Elapsed;

    public Task Add(ImagesScored message)
    {
        Scored.GetOrAdd(message.JobId, _ => new ConcurrentQueue<ImagesScored>()).Enqueue(message);
        ScoredArrivals.Enqueue(_clock.Elapsed);
        return Task.CompletedTask;
    }

    public Task Add(ScoreImagesRejected message)
    {
        Rejected.GetOrAdd(message.JobId, _ => new ConcurrentQueue<ScoreImagesRejected>()).Enqueue(message);
        return Task.CompletedTask;
    }

    public Task Add(Fault<ScoreImages> message)
    {
        Faults.Enqueue(message);
        return Task.CompletedTask;
    }

    public int CountScored(IEnumerable<string> jobIds) => jobIds.Count(Scored.ContainsKey);

    /// <summary>Waits until every job has a verdict event; false on timeout. Polls: this is waiting, not timing.</summary>
    public async Task<bool> WaitForScoredAsync(IReadOnlyCollection<string> jobIds, TimeSpan timeout, Func<int, Task>? onProgress = null)
    {
        var deadline = Stopwatch.StartNew();
        int last = -1;
        while (deadline.Elapsed < timeout)
        {
            int done = CountScored(jobIds);
            if (done != last && onProgress is not null)
            {
                await onProgress(done);
            }

            last = done;
            if (done == jobIds.Count)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    public async Task<T?> WaitForAsync<T>(Func<T?> probe, TimeSpan timeout)
        where T : class
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (probe() is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }

        return null;
    }
}

[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<ServersFixture>
{
    public const string Name = "servers";
}

/// <summary>
/// The servers, bus and events of a run of its own with no silo: for a test class that starts its silos itself, on a
/// Redis of its own or a disk of its own.
/// </summary>
public sealed class ServersWithoutSilos : IAsyncLifetime
{
    public ServersFixture Servers { get; } = new() { SiloCount = 0 };

    public Task InitializeAsync() => Servers.InitializeAsync();

    public Task DisposeAsync() => Servers.DisposeAsync();
}
