using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Messaging;

public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// The shared Redis connection ("ConnectionStrings:Redis"), job records and the message data repository, and the
    /// bus options ("ArtGrid:Bus"). Returns the connection, which the Orleans providers are handed while the host is
    /// still being built.
    /// </summary>
    public static RedisConnection AddArtGridRedis(this IServiceCollection services, IConfiguration configuration)
    {
        string connectionString = configuration.GetConnectionString("Redis")
            ?? throw new InvalidOperationException("ConnectionStrings:Redis is not set (e.g. ConnectionStrings__Redis=127.0.0.1:6379).");
        services.AddArtGridSection<BusOptions, BusOptionsValidator>(BusOptions.SectionName);
        var redis = new RedisConnection(connectionString);
        services.AddSingleton(redis);
        services.TryAddSingleton<IConnectionMultiplexer>(_ => redis.GetAsync().GetAwaiter().GetResult());
        services.TryAddSingleton(sp => new RedisJobRecords(
            redis,
            TimeSpan.FromHours(sp.GetRequiredService<IOptions<BusOptions>>().Value.JobRecordHours),
            sp.GetRequiredService<IOptions<BusOptions>>().Value.ReviewQueueLength,
            TimeSpan.FromHours(sp.GetRequiredService<IOptions<BusOptions>>().Value.MessageDataHours)));
        services.TryAddSingleton<IMessageDataRepository>(sp => new RedisMessageDataRepository(
            redis,
            TimeSpan.FromHours(sp.GetRequiredService<IOptions<BusOptions>>().Value.MessageDataHours)));
        return redis;
    }

    /// <summary>The RabbitMQ host from "ConnectionStrings:RabbitMq" (an amqp:// URI).</summary>
    public static Uri RabbitMqAddress(this IConfiguration configuration) =>
        configuration.GetConnectionString("RabbitMq") is { Length: > 0 } value
            ? new Uri(value)
            : throw new InvalidOperationException("ConnectionStrings:RabbitMq is not set (e.g. ConnectionStrings__RabbitMq=amqp://guest:guest@127.0.0.1:5672/).");

    /// <summary>
    /// Points a bus at ArtGrid's broker and claim-check store, with small images carried inline
    /// (<see cref="ImageData.ConfigureMassTransit"/>), error queues without the command queue's priority.
    /// </summary>
    public static void UseArtGrid(this IRabbitMqBusFactoryConfigurator bus, Uri rabbitMq, IMessageDataRepository messageData)
    {
        ImageData.ConfigureMassTransit();
        bus.Host(rabbitMq, host => host.Heartbeat(TimeSpan.FromSeconds(10)));
        bus.UseMessageData(messageData);
        ScoreQueue.ConfigureBus(bus);
    }
}
