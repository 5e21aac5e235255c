using Microsoft.ML.OnnxRuntime;

namespace ArtGrid.Grains.Inference;

/// <summary>
/// One ONNX Runtime session for one model on one device, created once (creating a session is expensive; Run is
/// thread-safe). Runs the backbone on a batch and returns one feature vector per input.
/// </summary>
public sealed class OnnxModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly int _inputLength;
    private readonly long[] _inputShapeTail;

    public OnnxModelSession(LoadedModel model, string device, int intraOpThreads)
        : this(model.BackbonePath, model.Config.Backbone, model.Input, device, intraOpThreads)
    {
    }

    /// <summary>A session over a backbone alone (training extracts features before any head exists).</summary>
    public OnnxModelSession(string backbonePath, BackboneConfig backbone, Imaging.ModelInputSpec input, string device, int intraOpThreads)
    {
        Device = device;
        Input = input;
        if (!device.StartsWith("cpu", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"Device '{device}' is not supported yet: this build runs on CPU slots (cpu:N).");
        }

        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (intraOpThreads > 0)
        {
            options.IntraOpNumThreads = intraOpThreads;
        }

        _session = new InferenceSession(OnnxGraphs.Load(backbonePath, backbone.DynamicBatch), options);
        _inputName = input.Name;
        _outputName = backbone.Output;
        if (!_session.InputMetadata.ContainsKey(_inputName))
        {
            throw new InvalidDataException($"{backbonePath} has no input '{_inputName}' (it has {string.Join(", ", _session.InputMetadata.Keys)}).");
        }

        if (!_session.OutputMetadata.ContainsKey(_outputName))
        {
            throw new InvalidDataException($"{backbonePath} has no output '{_outputName}' (it has {string.Join(", ", _session.OutputMetadata.Keys)}).");
        }

        _inputLength = input.ElementCount;
        _inputShapeTail = input.Layout == Imaging.TensorLayout.Nchw
            ? [3, input.Height, input.Width]
            : [input.Height, input.Width, 3];
    }

    public Imaging.ModelInputSpec Input { get; }

    public string Device { get; }

    /// <summary>Runs one batch; returns one feature vector per input, in order.</summary>
    public float[][] Run(IReadOnlyList<float[]> inputs)
    {
        ArgumentOutOfRangeException.ThrowIfZero(inputs.Count);
        int n = inputs.Count;
        var batch = new float[n * _inputLength];
        for (int i = 0; i < n; i++)
        {
            if (inputs[i].Length != _inputLength)
            {
                throw new ArgumentException($"Input {i} has {inputs[i].Length} values; the model takes {_inputLength}.", nameof(inputs));
            }

            inputs[i].CopyTo(batch, i * _inputLength);
        }

        long[] shape = [n, .. _inputShapeTail];
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(batch, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, [_inputName], [input], [_outputName]);
        ReadOnlySpan<float> data = outputs[0].GetTensorDataAsSpan<float>();
        if (data.Length % n != 0)
        {
            throw new InvalidDataException($"Output '{_outputName}' has {data.Length} values for a batch of {n}.");
        }

        int features = data.Length / n;
        var result = new float[n][];
        for (int i = 0; i < n; i++)
        {
            result[i] = data.Slice(i * features, features).ToArray();
        }

        return result;
    }

    public void Dispose() => _session.Dispose();
}

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
                shared = new SharedSession(new Lazy<OnnxModelSession>(() => new OnnxModelSession(GetModel(modelId), device, options.Value.IntraOpThreads)));
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
