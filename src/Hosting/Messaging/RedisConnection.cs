using StackExchange.Redis;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// The process's one Redis connection, shared by the result cache, job records, message data and Orleans' clustering
/// and grain storage. It connects on first use and keeps reconnecting by itself (AbortOnConnectFail is off), so a
/// Redis restart is an outage of Redis calls, not of the process.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _multiplexer;

    public RedisConnection(string connectionString)
    {
        Options = ConfigurationOptions.Parse(connectionString);
        Options.AbortOnConnectFail = false;
        Options.ClientName ??= "artgrid";
        _multiplexer = new Lazy<Task<ConnectionMultiplexer>>(() => ConnectionMultiplexer.ConnectAsync(Options));
    }

    public ConfigurationOptions Options { get; }

    public async Task<IConnectionMultiplexer> GetAsync() => await _multiplexer.Value;

    public async Task<IDatabase> GetDatabaseAsync() => (await GetAsync()).GetDatabase();

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer.IsValueCreated)
        {
            await (await _multiplexer.Value).DisposeAsync();
        }
    }
}
