using System.Text.Json;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Hosting.Operations;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ArtGrid.Gateway.Operations;

/// <summary>
/// Reads what <c>GET /v1/ops</c> answers, three sources at once: the silos' snapshots in Redis (two round trips: the
/// set of names, then every key; names whose key expired are removed), the membership (the management grain's active
/// hosts), and the broker's counts of the job queue and its error queue. Redis is needed (without it the answer is a
/// 503); the membership and the broker each have 5 s, and when one does not answer the view says so in its warnings.
/// </summary>
internal sealed partial class OpsReader(
    RedisConnection redis,
    IGrainFactory grains,
    BrokerQueues broker,
    IOptions<BusOptions> bus,
    IOptions<Orleans.Configuration.ClusterOptions> cluster,
    TimeProvider time,
    ILogger<OpsReader> logger)
{
    private static readonly TimeSpan SourceTimeout = TimeSpan.FromSeconds(5);

    public async Task<OpsView> ReadAsync(CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        string queue = bus.Value.QueueName;
        Task<SiloSnapshot[]> snapshots = SnapshotsAsync();
        Task<SiloMember[]> members = MembersAsync(cancellationToken);
        Task<BrokerQueue> jobs = CountAsync(queue, cancellationToken);
        Task<BrokerQueue> errors = CountAsync(OpsMerge.ErrorQueueOf(queue), cancellationToken);
        await Task.WhenAll(Settle(members), Settle(jobs), Settle(errors), snapshots);

        SiloMember[]? membership = members.IsCompletedSuccessfully ? members.Result : Warn<SiloMember[]>(warnings, "membership", members.Exception);
        BrokerQueue? jobQueue = jobs.IsCompletedSuccessfully ? jobs.Result : Warn<BrokerQueue>(warnings, "broker", jobs.Exception);
        BrokerQueue? errorQueue = errors.IsCompletedSuccessfully ? errors.Result : null;
        return OpsMerge.Merge(time.GetUtcNow(), await snapshots, membership, queue, jobQueue, errorQueue, warnings);
    }

    private async Task<SiloSnapshot[]> SnapshotsAsync()
    {
        string serviceId = cluster.Value.ServiceId;
        string clusterId = cluster.Value.ClusterId;
        IDatabase database = await redis.GetDatabaseAsync();
        RedisValue[] names = await database.SetMembersAsync(OpsKeys.Silos(serviceId, clusterId));
        if (names.Length == 0)
        {
            return [];
        }

        RedisValue[] values = await database.StringGetAsync([.. names.Select(n => (RedisKey)OpsKeys.Silo(serviceId, clusterId, n!))]);
        RedisValue[] gone = [.. names.Where((_, i) => values[i].IsNull)];
        if (gone.Length > 0)
        {
            // Silos that stopped writing: their keys expired. Fire and forget; the next reader tries again if this fails.
            _ = database.SetRemoveAsync(OpsKeys.Silos(serviceId, clusterId), gone, CommandFlags.FireAndForget);
        }

        var snapshots = new List<SiloSnapshot>(values.Length);
        foreach (RedisValue value in values.Where(v => !v.IsNull))
        {
            try
            {
                if (JsonSerializer.Deserialize<SiloSnapshot>((string)value!, Json) is { } snapshot)
                {
                    snapshots.Add(snapshot);
                }
            }
            catch (JsonException ex)
            {
                LogUnreadable(ex.Message);
            }
        }

        return [.. snapshots];
    }

    private async Task<SiloMember[]> MembersAsync(CancellationToken cancellationToken)
    {
        MembershipEntry[] hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true).WaitAsync(SourceTimeout, cancellationToken);
        return [.. hosts.Select(h => new SiloMember(
            h.SiloName,
            h.Status.ToString(),
            h.SiloAddress.Endpoint.ToString(),
            new DateTimeOffset(DateTime.SpecifyKind(h.StartTime, DateTimeKind.Utc))))];
    }

    private async Task<BrokerQueue> CountAsync(string queue, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(SourceTimeout);
        return await broker.CountAsync(queue, timeout.Token);
    }

    private T? Warn<T>(List<string> warnings, string source, AggregateException? exception)
        where T : class
    {
        Exception error = exception?.GetBaseException() ?? new InvalidOperationException("no answer");
        warnings.Add(source == "broker"
            ? $"The broker did not answer ({error.GetType().Name}): queue counts are unknown."
            : $"The cluster membership could not be read ({error.GetType().Name}): silos are those that reported.");
        LogSourceFailed(source, error.GetType().Name, error.Message);
        return null;
    }

    private static async Task Settle(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            // read through the task's state
        }
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [LoggerMessage(EventId = 7100, Level = LogLevel.Warning, Message = "The ops view could not read the {Source}: {Error}: {Message}")]
    private partial void LogSourceFailed(string source, string error, string message);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "A silo's operations snapshot is not readable JSON: {Message}")]
    private partial void LogUnreadable(string message);
}
