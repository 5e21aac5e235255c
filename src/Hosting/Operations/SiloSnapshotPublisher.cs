using System.Text.Json;
using ArtGrid.Grains.Models;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Sandbox;
using ArtGrid.Inference.Devices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Operations;

/// <summary>
/// Every <see cref="OpsKeys.Period"/>, writes this silo's <see cref="SiloSnapshot"/> to Redis (one pipelined SET with
/// a <see cref="OpsKeys.TimeToLive"/> and one SADD to the cluster's set of silos): off every request's path, one round
/// trip per period, and a silo that dies drops out when its key expires. A Redis that does not answer costs a warning
/// now and then, never the silo.
/// </summary>
internal sealed partial class SiloSnapshotPublisher(
    RedisConnection redis,
    SiloStats stats,
    ILocalSiloDetails silo,
    IOptions<Orleans.Configuration.ClusterOptions> cluster,
    DeviceInventory inventory,
    ActiveVersions activeVersions,
    IOptions<PreprocessingOptions> preprocessing,
    IServiceProvider services,
    TimeProvider time,
    ILogger<SiloSnapshotPublisher> logger) : BackgroundService
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly RateWindow _rates = new();
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();
    private DateTimeOffset _lastWarning = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(OpsKeys.Period, time);
        do
        {
            try
            {
                await PublishAsync();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                DateTimeOffset now = time.GetUtcNow();
                if (now - _lastWarning > TimeSpan.FromMinutes(1))
                {
                    _lastWarning = now;
                    LogNotPublished(ex.GetType().Name);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>On a graceful stop, takes this silo out of the view at once rather than when its key expires.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            string serviceId = cluster.Value.ServiceId;
            string clusterId = cluster.Value.ClusterId;
            IDatabase database = await redis.GetDatabaseAsync();
            await Task.WhenAll(
                database.KeyDeleteAsync(OpsKeys.Silo(serviceId, clusterId, silo.Name)),
                database.SetRemoveAsync(OpsKeys.Silos(serviceId, clusterId), silo.Name)).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            // The key expires by itself.
        }
    }

    public SiloSnapshot Build()
    {
        SiloTotals totals = stats.Read();
        DateTimeOffset now = time.GetUtcNow();
        (double imagesPerSecond, double jobsPerSecond) = _rates.Add(now, totals.ImagesScored, totals.JobsCompleted);
        DecodeSandbox? sandbox = preprocessing.Value.Isolation == DecodeIsolation.Sandbox ? services.GetService<DecodeSandbox>() : null;
        string name = silo.Name;

        // Every device of the inventory, the idle ones included; the stats add what each has done.
        Dictionary<string, DeviceStats> devices = inventory.Devices
            .Select(d => new SiloDevice(name, d).ToString())
            .ToDictionary(d => d, d => new DeviceStats(d, null, 0, null, null, 0, 0, 0), StringComparer.Ordinal);
        foreach (DeviceStats device in totals.Devices)
        {
            devices[device.Device] = device;
        }

        return new SiloSnapshot(
            name,
            now,
            _startedAt,
            activeVersions.LastKnownModelId(activeVersions.ScoringModel),
            totals.ImagesScored,
            imagesPerSecond,
            totals.JobsCompleted,
            totals.JobOutcomes.GetValueOrDefault("rejected"),
            jobsPerSecond,
            totals.CacheHits,
            totals.CacheMisses,
            totals.DecodeOutcomes.Where(o => o.Key != "ok").ToDictionary(StringComparer.Ordinal),
            totals.ImageOutcomes.Where(o => o.Key is not (Labels.Ai or Labels.Human or Labels.Uncertain or "none")).ToDictionary(StringComparer.Ordinal),
            sandbox?.WorkerProcessIds.Count ?? 0,
            sandbox?.BusyWorkers ?? 0,
            totals.DecodeWorkersReplaced,
            totals.LastQueueWaitMs is { } wait ? Math.Round(wait, 1) : null,
            totals.LastQueueWaitAt,
            [.. devices.Values.OrderBy(d => d.Device, StringComparer.Ordinal)]);
    }

    private async Task PublishAsync()
    {
        SiloSnapshot snapshot = Build();
        string serviceId = cluster.Value.ServiceId;
        string clusterId = cluster.Value.ClusterId;
        IDatabase database = await redis.GetDatabaseAsync();
        IBatch batch = database.CreateBatch();
        Task set = batch.StringSetAsync(OpsKeys.Silo(serviceId, clusterId, snapshot.Silo), JsonSerializer.Serialize(snapshot, Json), OpsKeys.TimeToLive);
        Task add = batch.SetAddAsync(OpsKeys.Silos(serviceId, clusterId), snapshot.Silo);
        batch.Execute();
        await Task.WhenAll(set, add);
    }

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "The silo's operations snapshot could not be written to Redis ({Error}); the ops view misses this silo until it can")]
    private partial void LogNotPublished(string error);
}
