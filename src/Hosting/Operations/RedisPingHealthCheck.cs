using System.Globalization;
using ArtGrid.Hosting.Messaging;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Operations;

/// <summary>Redis answers PING on the shared connection, which reconnects by itself: a restart is unready, then ready.</summary>
internal sealed class RedisPingHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // The endpoints alone: the configuration's text would carry the password.
        string endpoints = string.Join(", ", redis.Options.EndPoints.Select(e => e.ToString()));
        try
        {
            IDatabase database = await redis.GetDatabaseAsync();
            TimeSpan latency = await database.PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"PONG from {endpoints} in {latency.TotalMilliseconds:0.0} ms"));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"no PONG from {endpoints}: {ex.GetType().Name}");
        }
    }
}
