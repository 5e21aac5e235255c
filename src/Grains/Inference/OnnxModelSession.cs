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
/// Sessions shared by every grain on this silo: one per (model, device), created on first use.
/// </summary>
public sealed class ModelSessions(ModelRepository repository, Microsoft.Extensions.Options.IOptions<InferenceOptions> options) : IDisposable
{
    private readonly Dictionary<string, Lazy<LoadedModel>> _models = [];
    private readonly Dictionary<string, Lazy<OnnxModelSession>> _sessions = [];
    private readonly Lock _lock = new();

    public ModelRepository Repository { get; } = repository;

    /// <summary>The model this silo serves by default, resolved to "name/version".</summary>
    public LoadedModel DefaultModel => GetModel(options.Value.Model);

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

        LoadedModel loaded = lazy.Value;
        if (loaded.Id != model)
        {
            lock (_lock)
            {
                _models.TryAdd(loaded.Id, lazy);
            }
        }

        return loaded;
    }

    public OnnxModelSession GetSession(string modelId, string device)
    {
        string key = $"{modelId}@{device}";
        Lazy<OnnxModelSession> lazy;
        lock (_lock)
        {
            if (!_sessions.TryGetValue(key, out lazy!))
            {
                lazy = new Lazy<OnnxModelSession>(() => new OnnxModelSession(GetModel(modelId), device, options.Value.IntraOpThreads));
                _sessions[key] = lazy;
            }
        }

        return lazy.Value;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (Lazy<OnnxModelSession> session in _sessions.Values.Where(s => s.IsValueCreated))
            {
                session.Value.Dispose();
            }

            _sessions.Clear();
        }
    }
}
