using ArtGrid.GrainInterfaces;
using ArtGrid.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Grains.Models;

/// <summary>
/// Which version of a model this silo scores with: the model catalog's active version
/// (<see cref="IModelCatalogGrain"/>), read again once the last read is <see cref="InferenceOptions.ActiveVersionRefreshSeconds"/>
/// old. A job resolves its version once, when it starts, so every image of a job is scored by the same version, and a
/// job that starts more than the refresh interval after a switch was acknowledged uses the new version: a read that
/// started before the switch is never used past that interval, and concurrent jobs share one read in flight.
/// <para>
/// Why polling rather than an observer or a stream: it needs no subscription to keep alive or to restore after the
/// catalog's silo dies, no stream provider, and its cost is one small grain call per silo and interval while the
/// silo is busy (none while it is idle); the bound on propagation is the interval, whatever happened to the cluster.
/// When the catalog cannot be reached, the silo keeps its last known version (and says so in its log).
/// </para>
/// </summary>
public sealed partial class ActiveVersions(
    IGrainFactory grains,
    IOptions<InferenceOptions> options,
    TimeProvider time,
    ILogger<ActiveVersions> logger)
{
    private readonly Dictionary<string, Lookup> _lookups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ActiveModelVersion> _lastKnown = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The name of the model this silo scores with: the name part of <see cref="InferenceOptions.Model"/>.</summary>
    public string ScoringModel => options.Value.Model.Split('/', 2, StringSplitOptions.TrimEntries)[0];

    /// <summary>"name/version" of the active version of <paramref name="name"/>, as this silo knows it.</summary>
    public async Task<string> ModelIdAsync(string name, CancellationToken cancellationToken = default)
    {
        Lookup lookup;
        lock (_lock)
        {
            long now = time.GetTimestamp();
            if (!_lookups.TryGetValue(name, out lookup!) || time.GetElapsedTime(lookup.StartedAt, now) >= RefreshInterval)
            {
                // Off any grain's scheduler: the answer is shared by every job of the silo, whichever grain asked first.
                lookup = new Lookup(now, Task.Run(() => ReadAsync(name), CancellationToken.None));
                _lookups[name] = lookup;
            }
        }

        return (await lookup.Answer.WaitAsync(cancellationToken)).ModelId;
    }

    /// <summary>
    /// The active version of <paramref name="name"/> this silo last read, or null before its first lookup; asks no grain
    /// (for what operations report, which must not keep the lookups going while the silo is idle).
    /// </summary>
    public string? LastKnownModelId(string name)
    {
        lock (_lock)
        {
            return _lastKnown.GetValueOrDefault(name)?.ModelId;
        }
    }

    private TimeSpan RefreshInterval => TimeSpan.FromSeconds(options.Value.ActiveVersionRefreshSeconds);

    private async Task<ActiveModelVersion> ReadAsync(string name)
    {
        ActiveModelVersion? last;
        lock (_lock)
        {
            last = _lastKnown.GetValueOrDefault(name);
        }

        try
        {
            ActiveModelVersion active = await grains.GetGrain<IModelCatalogGrain>(name).GetActiveAsync();
            if (last?.Version != active.Version)
            {
                LogScoringWith(active.ModelId, last?.ModelId ?? "none");
            }

            lock (_lock)
            {
                _lastKnown[name] = active;
            }

            return active;
        }
        catch (Exception ex) when (ex is not ModelVersionException && last is not null)
        {
            LogCatalogUnreachable(name, last.ModelId, ex);
            return last;
        }
    }

    private sealed record Lookup(long StartedAt, Task<ActiveModelVersion> Answer);

    [LoggerMessage(EventId = 2111, Level = LogLevel.Information, Message = "This silo now scores new jobs with {Model} (was {Previous})")]
    private partial void LogScoringWith(string model, string previous);

    [LoggerMessage(EventId = 2112, Level = LogLevel.Warning, Message = "The model catalog of {Name} did not answer; still scoring with {Model}")]
    private partial void LogCatalogUnreachable(string name, string model, Exception exception);
}
