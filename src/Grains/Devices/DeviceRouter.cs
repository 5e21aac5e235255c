using System.Collections.Concurrent;
using ArtGrid.GrainInterfaces;
using ArtGrid.Inference;
using ArtGrid.Inference.Devices;
using Microsoft.Extensions.Options;

namespace ArtGrid.Grains.Devices;

/// <summary>A device chosen for one request: its inference grain's key.</summary>
public readonly record struct DeviceRoute(string Key);

/// <summary>Chooses the device each tensor goes to, and learns from how requests went.</summary>
public interface IDeviceRouter
{
    /// <summary>A device for one tensor of <paramref name="modelId"/> prepared on this silo, none of <paramref name="avoid"/>.</summary>
    /// <exception cref="DeviceUnavailableException">No device in the cluster can take it.</exception>
    DeviceRoute Pick(string modelId, IReadOnlySet<string>? avoid = null);

    /// <summary>A request to <paramref name="route"/> is on its way.</summary>
    void Sent(DeviceRoute route);

    /// <summary>A request to <paramref name="route"/> came back; <paramref name="devicePending"/> is what the device held then, when known.</summary>
    void Returned(DeviceRoute route, int? devicePending);

    /// <summary>The device could not be reached (its silo left, or it is not there): skip it for a while.</summary>
    void MarkDown(DeviceRoute route);

    /// <summary>
    /// Whether every device this silo can send to holds at least <paramref name="fullBatches"/> full batches (all models
    /// together): more work taken in now would only wait in memory. False when the cluster has no device at all (jobs
    /// then fail fast instead of waiting for one).
    /// </summary>
    bool AllSaturated(double fullBatches);
}

/// <summary>
/// Local first, then spill: a tensor goes to the least loaded device of this silo (tensors stay in-process; loads are
/// read from <see cref="LocalDevices"/>, or counted as sent when more are on their way) unless that device is saturated (its queue holds
/// <see cref="InferenceOptions.SaturatedQueueBatches"/> full batches) or the silo has none. Then two devices of other
/// silos are drawn at random and the less loaded one is taken (power of two choices: near the best of all at the cost
/// of two look-ups, and no herding on one stale minimum) when it has clear room (under half the saturation mark) and
/// holds at least a full batch less than the best local device; otherwise the tensor queues locally. A silo without devices always sends to the chosen one.
/// A remote device's load is what it reported on its last answer (for <see cref="ReportFreshness"/>) plus this silo's
/// requests in flight to it; a device with no fresh report gets one probe at a time.
/// </summary>
public sealed class LoadAwareDeviceRouter(
    ClusterDevices cluster,
    LocalDevices local,
    IOptions<InferenceOptions> options,
    TimeProvider time) : IDeviceRouter
{
    /// <summary>How long a device's reported load counts.</summary>
    public static readonly TimeSpan ReportFreshness = TimeSpan.FromSeconds(1);

    /// <summary>How long a device that could not be reached is skipped.</summary>
    public static readonly TimeSpan DownPeriod = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Load> _loads = new(StringComparer.Ordinal);

    public DeviceRoute Pick(string modelId, IReadOnlySet<string>? avoid = null)
    {
        long now = time.GetTimestamp();
        InferenceOptions settings = options.Value;
        string? bestLocal = null;
        int bestLocalLoad = int.MaxValue;
        foreach (DeviceId device in cluster.Local)
        {
            string key = new DeviceKey(modelId, cluster.LocalSilo, device).ToString();
            if (avoid?.Contains(key) == true || IsDown(key, now))
            {
                continue;
            }

            int load = LocalLoad(key);
            if (load < bestLocalLoad)
            {
                (bestLocal, bestLocalLoad) = (key, load);
            }
        }

        double saturated = Math.Max(1, settings.SaturatedQueueBatches * settings.MaxBatchSize);
        if (bestLocal is not null && bestLocalLoad < saturated)
        {
            return new DeviceRoute(bestLocal);
        }

        IReadOnlyList<SiloDevice> remote = cluster.Remote;
        string? first = null, second = null;
        int candidates = 0;
        foreach (SiloDevice device in remote)
        {
            string key = new DeviceKey(modelId, device.Silo, device.Device).ToString();
            if (avoid?.Contains(key) == true || IsDown(key, now))
            {
                continue;
            }

            // Reservoir sampling of two distinct candidates in one pass, without allocating.
            candidates++;
            if (candidates == 1)
            {
                first = key;
            }
            else if (candidates == 2)
            {
                second = key;
            }
            else
            {
                int slot = Random.Shared.Next(candidates);
                if (slot == 0)
                {
                    first = key;
                }
                else if (slot == 1)
                {
                    second = key;
                }
            }
        }

        if (first is null)
        {
            return bestLocal is not null
                ? new DeviceRoute(bestLocal)
                : throw new DeviceUnavailableException(modelId, candidates == 0 && remote.Count == 0 && cluster.Local.Count == 0
                    ? "no silo in the cluster serves a device"
                    : "every device in the cluster is down or was already tried");
        }

        string chosen = first;
        int chosenLoad = RemoteLoad(first, now);
        if (second is not null && RemoteLoad(second, now) is int secondLoad && secondLoad < chosenLoad)
        {
            (chosen, chosenLoad) = (second, secondLoad);
        }

        // Spill only to clear room: when every device is busy, moving tensors between silos costs a copy and a hop and
        // serves nothing sooner (measured: a few percent spilled under saturation cost more CPU than it saved), so the
        // tensor queues locally, and the intake gate slows the bus down.
        if (bestLocal is null || (chosenLoad < saturated / 2 && chosenLoad + settings.MaxBatchSize <= bestLocalLoad))
        {
            return new DeviceRoute(chosen);
        }

        return new DeviceRoute(bestLocal);
    }

    public void Sent(DeviceRoute route) => Interlocked.Increment(ref LoadOf(route.Key).Outstanding);

    public void Returned(DeviceRoute route, int? devicePending)
    {
        Load load = LoadOf(route.Key);
        Interlocked.Decrement(ref load.Outstanding);
        if (devicePending is int pending)
        {
            Volatile.Write(ref load.Reported, pending);
            Volatile.Write(ref load.ReportedAt, time.GetTimestamp());
        }
    }

    public void MarkDown(DeviceRoute route) =>
        Volatile.Write(ref LoadOf(route.Key).DownUntil, time.GetTimestamp() + (long)(DownPeriod.TotalSeconds * time.TimestampFrequency));

    public bool AllSaturated(double fullBatches)
    {
        long now = time.GetTimestamp();
        double threshold = Math.Max(1, fullBatches * options.Value.MaxBatchSize);
        var perDevice = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (DeviceId device in cluster.Local)
        {
            perDevice[new SiloDevice(cluster.LocalSilo, device).ToString()] = 0;
        }

        foreach (SiloDevice device in cluster.Remote)
        {
            perDevice[device.ToString()] = 0;
        }

        if (perDevice.Count == 0)
        {
            return false;
        }

        // Every model's grain on a device shares it: add their loads up per device.
        foreach (KeyValuePair<string, Load> entry in _loads)
        {
            DeviceKey key = DeviceKey.Parse(entry.Key);
            bool isLocal = key.Silo == cluster.LocalSilo;
            string location = new SiloDevice(isLocal ? cluster.LocalSilo : key.Silo!, key.Device).ToString();
            if (perDevice.TryGetValue(location, out int sum))
            {
                perDevice[location] = sum + (isLocal ? LocalLoad(entry.Key) : RemoteLoad(entry.Key, now));
            }
        }

        return perDevice.Values.All(load => load >= threshold);
    }

    // What a device of this silo holds, or this silo's requests on their way to it when more (they are sent before
    // they arrive).
    private int LocalLoad(string key) => Math.Max(local.Pending(key) ?? 0, Volatile.Read(ref LoadOf(key).Outstanding));

    // A fresh report plus this silo's requests sent since (an over-estimate: some were in the report already). With no
    // fresh report the device's load is unknown: one probe may go, and until it answers the device counts as full, so
    // a saturated silo does not pour tensors into devices it knows nothing about.
    private int RemoteLoad(string key, long now)
    {
        Load load = LoadOf(key);
        int outstanding = Volatile.Read(ref load.Outstanding);
        long reportedAt = Volatile.Read(ref load.ReportedAt);
        if (reportedAt != 0 && time.GetElapsedTime(reportedAt, now) <= ReportFreshness)
        {
            return Volatile.Read(ref load.Reported) + outstanding;
        }

        return outstanding == 0 ? 0 : int.MaxValue / 2;
    }

    private bool IsDown(string key, long now) =>
        _loads.TryGetValue(key, out Load? load) && Volatile.Read(ref load.DownUntil) > now;

    private Load LoadOf(string key) => _loads.GetOrAdd(key, static _ => new Load());

    private sealed class Load
    {
        public int Outstanding;
        public int Reported;
        public long ReportedAt;
        public long DownUntil;
    }
}
