using System.Collections.Concurrent;

namespace ArtGrid.Inference.Devices;

/// <summary>
/// The device grains active on this silo and how many requests each holds (queued or in the running batch): the
/// router reads local load here exactly, with no messages, and the metrics report it as queue depth.
/// </summary>
public sealed class LocalDevices
{
    private readonly ConcurrentDictionary<string, Func<int>> _pending = new(StringComparer.Ordinal);

    /// <summary>
    /// Adds an active device. Each device runs its batches synchronously on a thread-pool thread (ONNX Runtime's Run,
    /// or a simulated GPU's wait, blocks), so the pool's minimum grows by one per device: otherwise a silo with more
    /// devices than cores waits for the pool's slow thread injection before every device can run at once.
    /// </summary>
    public void Register(string key, Func<int> pending)
    {
        if (_pending.TryAdd(key, pending))
        {
            ThreadPool.GetMinThreads(out int workers, out int io);
            ThreadPool.SetMinThreads(workers + 1, io);
        }
    }

    public void Unregister(string key)
    {
        if (_pending.TryRemove(key, out _))
        {
            ThreadPool.GetMinThreads(out int workers, out int io);
            ThreadPool.SetMinThreads(Math.Max(Environment.ProcessorCount, workers - 1), io);
        }
    }

    /// <summary>Requests the device grain <paramref name="key"/> holds now, or null when it is not active on this silo.</summary>
    public int? Pending(string key) => _pending.TryGetValue(key, out Func<int>? pending) ? pending() : null;

    /// <summary>Every active device grain of this silo with what it holds now.</summary>
    public IEnumerable<KeyValuePair<string, int>> Snapshot() =>
        _pending.Select(p => new KeyValuePair<string, int>(p.Key, p.Value()));
}
