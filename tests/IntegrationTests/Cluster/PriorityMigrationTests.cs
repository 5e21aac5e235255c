using System.Text;
using ArtGrid.Hosting.Messaging;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// deploy/migrate-priority-queue.sh for real, on a RabbitMQ of its own with the management plugin (deploy/servers.sh on
/// the test AMQP port + 100, the API on that + 10000, its data in a temporary folder): a queue declared as before
/// priorities, holding messages, becomes the queue every party of this release declares, with every message kept.
/// </summary>
public sealed class PriorityMigrationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("artgrid-priority-migration-").FullName;
    private PrivateRabbitMq? _rabbit;

    private PrivateRabbitMq Rabbit => _rabbit ?? throw new InvalidOperationException("not started");

    private Uri RabbitMq => Rabbit.Address;

    public async Task InitializeAsync() => _rabbit = await PrivateRabbitMq.StartAsync(offset: 100);

    public async Task DisposeAsync()
    {
        if (_rabbit is not null)
        {
            await _rabbit.DisposeAsync();
        }

        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task TheMigrationMakesAPriorityQueueAndKeepsEveryMessage()
    {
        const string queue = "score-images";
        await PriorityTests.DeclareLegacyQueueAsync(RabbitMq, queue);
        var sent = new List<(string Id, byte Priority, string Body, string Header)>();
        var factory = new ConnectionFactory { Uri = RabbitMq };
        await using (IConnection connection = await factory.CreateConnectionAsync())
        await using (IChannel channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            // More than one of the script's batches, every priority, sent to the exchange as MassTransit sends them.
            for (int i = 0; i < 120; i++)
            {
                (string Id, byte Priority, string Body, string Header) message = ($"m{i:D3}", (byte)(i % 10), $"{{\"job\":{i}}}", $"h{i}");
                var properties = new BasicProperties
                {
                    MessageId = message.Id,
                    Priority = message.Priority,
                    Persistent = true,
                    ContentType = "application/vnd.masstransit+json",
                    Headers = new Dictionary<string, object?> { ["MT-Test"] = message.Header },
                };
                await channel.BasicPublishAsync(queue, "", false, properties, Encoding.UTF8.GetBytes(message.Body));
                sent.Add(message);
            }
        }

        // Before: every party of this release is refused, and says what to run.
        var refused = await Assert.ThrowsAsync<ScoreQueueMismatchException>(() => ScoreQueue.DeclareAsync(RabbitMq, queue, CancellationToken.None));
        Assert.Contains(ScoreQueue.Migration, refused.Message, StringComparison.Ordinal);

        (int exit, string stdout, string stderr) = await MigrateAsync(queue);
        output.WriteLine(stderr);
        Assert.True(exit == 0, $"the migration failed ({exit}): {stdout}{stderr}");

        // After: the declaration of the silos and senders is accepted, and run again the script has nothing to do.
        Assert.Equal(ScoreQueue.SendAddress(queue), await ScoreQueue.DeclareAsync(RabbitMq, queue, CancellationToken.None));
        (exit, _, stderr) = await MigrateAsync(queue);
        Assert.True(exit == 0, stderr);
        Assert.Contains("nothing to do", stderr, StringComparison.Ordinal);

        await using (IConnection connection = await factory.CreateConnectionAsync())
        await using (IChannel channel = await connection.CreateChannelAsync())
        {
            await Assert.ThrowsAnyAsync<Exception>(() => channel.QueueDeclarePassiveAsync($"{queue}.priority-migration"));
        }

        // Every message once, with its body, id, priority, persistence and headers; and now in priority order.
        var taken = new List<(string Id, byte Priority, string Body, string Header)>();
        await using (IConnection connection = await factory.CreateConnectionAsync())
        await using (IChannel channel = await connection.CreateChannelAsync())
        {
            while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
            {
                Assert.True(message.BasicProperties.Persistent);
                Assert.Equal("application/vnd.masstransit+json", message.BasicProperties.ContentType);
                string header = Encoding.UTF8.GetString((byte[])message.BasicProperties.Headers!["MT-Test"]!);
                taken.Add((message.BasicProperties.MessageId!, message.BasicProperties.Priority, Encoding.UTF8.GetString(message.Body.Span), header));
            }
        }

        Assert.Equal(sent.OrderBy(m => m.Id), taken.OrderBy(m => m.Id));
        Assert.Equal(taken.OrderByDescending(m => m.Priority).Select(m => m.Priority), taken.Select(m => m.Priority));
        // Within a priority, the order they were sent in.
        Assert.All(taken.GroupBy(m => m.Priority), g => Assert.Equal(g.Select(m => m.Id).Order(StringComparer.Ordinal), g.Select(m => m.Id)));
    }

    private Task<(int Exit, string Stdout, string Stderr)> MigrateAsync(string queue) =>
        Rabbit.RunScriptAsync(
            "migrate-priority-queue.sh", new Dictionary<string, string> { ["ARTGRID_MIGRATION_DIR"] = Path.Combine(_state, "migration") }, queue);
}
