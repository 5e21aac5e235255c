using System.Collections.Concurrent;

namespace ArtGrid.Grains;

/// <summary>The embedded result cache: bounded, first in first out.</summary>
public sealed class InMemoryResultCache(int capacity = 100_000) : IResultCache
{
    private readonly ConcurrentDictionary<string, CachedScore> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public int Count => _entries.Count;

    public ValueTask<CachedScore?> TryGetAsync(string sha256, string modelId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_entries.TryGetValue(Key(sha256, modelId), out CachedScore? score) ? score : null);

    public ValueTask SetAsync(string sha256, string modelId, CachedScore score, CancellationToken cancellationToken = default)
    {
        string key = Key(sha256, modelId);
        if (_entries.TryAdd(key, score))
        {
            _order.Enqueue(key);
            while (_entries.Count > capacity && _order.TryDequeue(out string? oldest))
            {
                _entries.TryRemove(oldest, out _);
            }
        }
        else
        {
            _entries[key] = score;
        }

        return ValueTask.CompletedTask;
    }

    private static string Key(string sha256, string modelId) => $"{modelId}:{sha256}";
}
