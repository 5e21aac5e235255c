using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ArtGrid.Inference;

/// <summary>
/// Sessions shared by every grain on this silo: one per (model, device), created on first use and disposed when its last
/// user releases it (an inference grain holds one while it is active), so that a model version no longer in use does
/// not keep its session. Loaded model files (head, input spec) are kept per version: small, and bounded by the versions
/// on disk. A load that fails is not remembered, so a version fixed on disk loads on the next attempt.
/// </summary>
public sealed class ModelSessions(ModelRepository repository, Microsoft.Extensions.Options.IOptions<InferenceOptions> options) : IDisposable
{
    private readonly Dictionary<string, Lazy<LoadedModel>> _models = [];
    private readonly Dictionary<string, SharedSession> _sessions = [];
    private readonly Lock _lock = new();

    public ModelRepository Repository { get; } = repository;

    /// <summary>The model configuration names, resolved to "name/version" (the cluster's active version may differ: see <see cref="ActiveVersions"/>).</summary>
    public LoadedModel DefaultModel => GetModel(options.Value.Model);

    /// <summary>"model@device" of every session this silo holds now.</summary>
    public IReadOnlyList<string> LoadedSessions
    {
        get
        {
            lock (_lock)
            {
                return [.. _sessions.Where(s => s.Value.Session.IsValueCreated).Select(s => s.Key).Order(StringComparer.Ordinal)];
            }
        }
    }

    public LoadedModel GetModel(string model)
    {
        Lazy<LoadedModel> lazy;
        lock (_lock)
        {
            if (!_models.TryGetValue(model, out lazy!))
            {
                lazy = new Lazy<LoadedModel>(() => Repository.Load(model));
                _models[model] = lazy;
            }
        }

        LoadedModel loaded;
        try
        {
            loaded = lazy.Value;
        }
        catch
        {
            lock (_lock)
            {
                if (_models.TryGetValue(model, out Lazy<LoadedModel>? current) && ReferenceEquals(current, lazy))
                {
                    _models.Remove(model);
                }
            }

            throw;
        }

        if (loaded.Id != model)
        {
            lock (_lock)
            {
                _models.TryAdd(loaded.Id, lazy);
            }
        }

        return loaded;
    }

    /// <summary>The session of <paramref name="modelId"/> on <paramref name="device"/>; pair every call with <see cref="ReleaseSession"/>.</summary>
    public OnnxModelSession AcquireSession(string modelId, string device)
    {
        string key = $"{modelId}@{device}";
        SharedSession shared;
        lock (_lock)
        {
            if (!_sessions.TryGetValue(key, out shared!))
            {
                shared = new SharedSession(new Lazy<OnnxModelSession>(() => new OnnxModelSession(GetModel(modelId), device, options.Value.EffectiveIntraOpThreads, options.Value.Cuda)));
                _sessions[key] = shared;
            }

            shared.Users++;
        }

        try
        {
            return shared.Session.Value;
        }
        catch
        {
            ReleaseSession(modelId, device);
            throw;
        }
    }

    /// <summary>Gives back a session from <see cref="AcquireSession"/>; the last release disposes it.</summary>
    public void ReleaseSession(string modelId, string device)
    {
        string key = $"{modelId}@{device}";
        OnnxModelSession? unused = null;
        lock (_lock)
        {
            if (_sessions.TryGetValue(key, out SharedSession? shared) && --shared.Users == 0)
            {
                _sessions.Remove(key);
                unused = shared.Session.IsValueCreated ? shared.Session.Value : null;
            }
        }

        unused?.Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (SharedSession shared in _sessions.Values.Where(s => s.Session.IsValueCreated))
            {
                shared.Session.Value.Dispose();
            }

            _sessions.Clear();
        }
    }

    private sealed class SharedSession(Lazy<OnnxModelSession> session)
    {
        public Lazy<OnnxModelSession> Session { get; } = session;

        public int Users { get; set; }
    }
}
