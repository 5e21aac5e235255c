using ArtGrid.Hosting.Messaging;
using ArtGrid.Hosting.Webhooks;
using ArtGrid.Tests.Cluster;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ArtGrid.Tests.Webhooks;

/// <summary>
/// A bus in the test process wired as the gateway wires webhooks (AddArtGridRedis, AddArtGridWebhooks,
/// AddArtGridWebhookConsumers, ConfigureEndpoints) on the real Redis and RabbitMQ, with a command queue name of its own
/// so that its webhook queue is its own; disposing it deletes that queue and its "_error" queue.
/// </summary>
public sealed class WebhookHost : IAsyncDisposable
{
    public const string Secret = "integration-test-secret-0123456789abcdef";

    private readonly ServiceProvider _services;
    private readonly IBusControl _bus;

    private WebhookHost(string queueName, ServiceProvider services)
    {
        QueueName = queueName;
        _services = services;
        _bus = services.GetRequiredService<IBusControl>();
    }

    public string QueueName { get; }

    public string WebhookQueue => $"{QueueName}-webhooks";

    public IBus Bus => _bus;

    public WebhookRegistrations Registrations => _services.GetRequiredService<WebhookRegistrations>();

    /// <summary>Starts a host; <paramref name="settings"/> add to or replace the defaults (loopback allowed, short back-off, one delivery at a time).</summary>
    public static async Task<WebhookHost> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        await TestServers.EnsureRunningAsync();
        string queueName = "score-images-wh" + Guid.NewGuid().ToString("N")[..10];
        var values = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = TestServers.Redis,
            ["ArtGrid:Bus:QueueName"] = queueName,
            ["ArtGrid:Bus:JobRecordHours"] = "1",
            ["ArtGrid:Webhooks:Enabled"] = "true",
            ["ArtGrid:Webhooks:SigningSecret"] = Secret,
            ["ArtGrid:Webhooks:AllowedHosts:0"] = "127.0.0.1",
            ["ArtGrid:Webhooks:AllowPrivateNetworks"] = "true",
            ["ArtGrid:Webhooks:MaxAttempts"] = "4",
            ["ArtGrid:Webhooks:MinBackoffSeconds"] = "0.05",
            ["ArtGrid:Webhooks:MaxBackoffSeconds"] = "0.2",
            ["ArtGrid:Webhooks:TimeoutSeconds"] = "5",
            // One at a time: events are handled in the order they were published, so a later job's delivery shows
            // that an earlier event was handled.
            ["ArtGrid:Webhooks:ConcurrentDeliveries"] = "1",
        };
        foreach ((string key, string? value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging();
        services.AddArtGridRedis(configuration);
        services.AddArtGridWebhooks(configuration);
        services.AddMassTransit(bus =>
        {
            bus.AddArtGridWebhookConsumers();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.UseArtGrid(TestServers.RabbitMq, context.GetRequiredService<IMessageDataRepository>());
                rabbit.ConfigureEndpoints(context);
            });
        });
        var host = new WebhookHost(queueName, services.BuildServiceProvider());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host._bus.StartAsync(timeout.Token);
        return host;
    }

    /// <summary>Messages in this host's webhook "_error" queue (0 when MassTransit never created it).</summary>
    public async Task<uint> ErrorQueueDepthAsync()
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = TestServers.RabbitMq };
        await using RabbitMQ.Client.IConnection connection = await factory.CreateConnectionAsync();
        await using RabbitMQ.Client.IChannel channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(WebhookQueue + "_error")).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _bus.StopAsync();
        await _services.DisposeAsync();
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = TestServers.RabbitMq };
        await using RabbitMQ.Client.IConnection connection = await factory.CreateConnectionAsync();
        foreach (string queue in new[] { WebhookQueue, WebhookQueue + "_error" })
        {
            await using RabbitMQ.Client.IChannel channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
        }
    }
}
