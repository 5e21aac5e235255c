using ArtGrid.Inference.Devices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ArtGrid.Inference;

/// <summary>
/// One ONNX Runtime session for one model on one device, created once (creating a session is expensive; Run is
/// thread-safe). One call runs a whole batch and fetches every configured output at once: <see cref="Score"/> turns
/// them into probabilities (and class activation maps, at no extra inference), <see cref="Run"/> into the feature
/// vectors that training fits a head on. Creating it runs one blank image, which checks the outputs' shapes against
/// the config and head, and warms the session up. "cpu:N" runs on the CPU provider; "cuda:N" on the CUDA provider
/// (a build with <c>-p:ArtGridGpu=true</c>, docs/GPU.md), with the CPU provider for any node CUDA does not take.
/// </summary>
public sealed class OnnxModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _backbonePath;
    private readonly string[] _outputNames;
    private readonly OutputShape[] _shapes;
    private readonly int _featureMapIndex;
    private readonly OutputConfig _output;
    private readonly LinearHead? _head;
    private readonly AttributionHead? _attribution;
    private readonly bool _oneImagePerRun;
    private readonly int _inputLength;
    private readonly long[] _inputShapeTail;

    /// <summary>A session that scores with <paramref name="model"/> on <paramref name="device"/> ("cpu:N" or "cuda:N").</summary>
    /// <param name="model">The model: backbone, input spec, output config and head.</param>
    /// <param name="device">"cpu:N" or "cuda:N"; "sim:N" devices have no session.</param>
    /// <param name="intraOpThreads">ONNX Runtime intra-op threads (CPU work, on a GPU too); 0 leaves ONNX Runtime's choice.</param>
    /// <param name="cuda">Session options of "cuda:N" devices; null takes the defaults. Ignored on CPU slots.</param>
    /// <param name="useIoBinding">
    /// Whether batches run through an IOBinding; null: <see cref="CudaOptions.UseIoBinding"/> on "cuda:N", off on "cpu:N".
    /// </param>
    /// <exception cref="NotSupportedException">The device is "sim:N", or "cuda:N" where this build or node has no CUDA provider.</exception>
    public OnnxModelSession(LoadedModel model, string device, int intraOpThreads, CudaOptions? cuda = null, bool? useIoBinding = null)
        : this(model.BackbonePath, model.Config.Backbone, model.Input, model.Config.Output, model.Head, model.Config.Labels, device, intraOpThreads, cuda, useIoBinding, model.Graph?.Take())
    {
        _attribution = model.Attribution;
    }

    /// <summary>A session over a backbone alone (training extracts features before any head exists): <see cref="Run"/> only.</summary>
    public OnnxModelSession(string backbonePath, BackboneConfig backbone, ModelInputSpec input, string device, int intraOpThreads)
        : this(backbonePath, backbone, input, new OutputConfig(), null, null, device, intraOpThreads, cuda: null, useIoBinding: null, prepared: null)
    {
    }

    private OnnxModelSession(
        string backbonePath,
        BackboneConfig backbone,
        ModelInputSpec input,
        OutputConfig output,
        LinearHead? head,
        IReadOnlyList<string>? labels,
        string device,
        int intraOpThreads,
        CudaOptions? cuda,
        bool? useIoBinding,
        byte[]? prepared)
    {
        Device = device;
        Input = input;
        DeviceId id = DeviceId.Parse(device);
        cuda ??= new CudaOptions();
        if (id.Kind == DeviceKind.Sim)
        {
            throw new NotSupportedException($"Device '{device}': sim devices have no ONNX Runtime session (simulated devices are served by their own inference path, not by a model session).");
        }

        UsesIoBinding = useIoBinding ?? (id.Kind == DeviceKind.Cuda && cuda.UseIoBinding);
        _backbonePath = backbonePath;
        _output = output;
        _head = head;
        _outputNames = [.. backbone.OutputNames];
        _featureMapIndex = backbone.FeatureMap is null ? -1 : Array.IndexOf(_outputNames, backbone.FeatureMap);
        _inputLength = input.ElementCount;
        _inputShapeTail = input.Layout == TensorLayout.Nchw ? [3, input.Height, input.Width] : [input.Height, input.Width, 3];

        // The graph its load already prepared, when this is the first session of that load; else prepared here.
        byte[] graph = prepared ?? Google.Protobuf.MessageExtensions.ToByteArray(OnnxGraphs.Prepare(backbonePath, backbone, input));

        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (intraOpThreads > 0)
        {
            options.IntraOpNumThreads = intraOpThreads;
        }

        if (id.Kind == DeviceKind.Cuda)
        {
            AppendCuda(options, id, cuda);
        }

        try
        {
            _session = new InferenceSession(graph, options);
        }
        catch (OnnxRuntimeException ex) when (id.Kind == DeviceKind.Cuda)
        {
            // On a GPU the likely cause is the node (no GPU with that index, driver or library mismatch), not the model.
            throw new InvalidOperationException($"{device}: ONNX Runtime could not create a CUDA session for {backbonePath}: {ex.Message} (docs/GPU.md lists what the CUDA provider needs).", ex);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"{backbonePath} does not load: {ex.Message}", ex);
        }

        // A graph whose batch dimension is a fixed value (backbone.dynamicBatch false) takes one image per run.
        _oneImagePerRun = _session.InputMetadata[input.Name].Dimensions is [> 0, ..];

        try
        {
            _shapes = Probe();
            FeatureCount = _shapes.Sum(s => s.Channels);
            CheckAgainstConfig(labels);
        }
        catch
        {
            _session.Dispose();
            throw;
        }

        OutputShapes = _outputNames.Select((name, k) => (name, _shapes[k].Dims)).ToDictionary(x => x.name, x => x.Dims, StringComparer.Ordinal);
    }

    public ModelInputSpec Input { get; }

    public string Device { get; }

    /// <summary>Whether batches run through an <see cref="OrtIoBinding"/> (input bound from the batch buffer, outputs to CPU memory).</summary>
    public bool UsesIoBinding { get; }

    /// <summary>The execution providers this process's ONNX Runtime was built with ("CPUExecutionProvider", "CUDAExecutionProvider", …).</summary>
    public static IReadOnlyList<string> AvailableProviders => OrtEnv.Instance().GetAvailableProviders();

    /// <summary>Whether this build's ONNX Runtime has the CUDA execution provider (Microsoft.ML.OnnxRuntime.Gpu); it may still fail to load without CUDA and cuDNN.</summary>
    public static bool HasCudaProvider => AvailableProviders.Contains(CudaProvider, StringComparer.Ordinal);

    /// <summary>The name ONNX Runtime gives its CUDA execution provider.</summary>
    public const string CudaProvider = "CUDAExecutionProvider";

    /// <summary>Length of the vector <see cref="Run"/> returns: the configured outputs, pooled and concatenated.</summary>
    public int FeatureCount { get; }

    /// <summary>Each configured output's shape for one image (batch dimension 1), as the first run found it.</summary>
    public IReadOnlyDictionary<string, long[]> OutputShapes { get; }

    /// <summary>Whether <see cref="Score"/> returns class activation maps: a feature map under a linear head.</summary>
    public bool HasActivationMaps => _featureMapIndex >= 0 && _head is not null && _output.Kind == OutputKind.Features;

    /// <summary>Runs one batch; returns one feature vector per input, in order (each output pooled over H and W, concatenated).</summary>
    public float[][] Run(IReadOnlyList<float[]> inputs) => Forward(inputs, keepFeatureMap: false).Features;

    /// <summary>Scores one batch: per input, in order, the AI probability and, when <see cref="HasActivationMaps"/>, the map.</summary>
    public ModelScore[] Score(IReadOnlyList<float[]> inputs)
    {
        if (_output.Kind == OutputKind.Features && _head is null)
        {
            throw new InvalidOperationException("This session was created for feature extraction, without a head: it cannot score.");
        }

        Forwarded forwarded = Forward(inputs, keepFeatureMap: HasActivationMaps);
        var scores = new ModelScore[inputs.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            float[] values = forwarded.Features[i];
            (double probability, double logit) = Read(values);
            if (!double.IsFinite(probability) || probability < 0 || probability > 1)
            {
                throw new InvalidDataException($"{_backbonePath} gave {probability} as the AI probability of input {i} (output.kind {_output.Kind.ToString().ToLowerInvariant()}).");
            }

            ActivationMap? map = null;
            if (forwarded.MapSums is { } sums)
            {
                OutputShape shape = _shapes[_featureMapIndex];
                map = ClassActivationMaps.FromWeightedSums(sums[i], shape.Height, shape.Width, logit);
            }

            scores[i] = new ModelScore(probability, map, _attribution?.Predict(values));
        }

        return scores;
    }

    // The AI probability from one image's pooled outputs, with the head's logit (features only; NaN otherwise).
    private (double Probability, double Logit) Read(float[] values)
    {
        switch (_output.Kind)
        {
            case OutputKind.Features:
                double logit = _head!.Logit(values);
                return (LinearHead.Sigmoid(logit), logit);
            case OutputKind.Logits when values.Length == 1:
                return (LinearHead.Sigmoid(values[0]), double.NaN);
            case OutputKind.Logits:
                // Softmax at the AI column, without overflow: 1 / sum_j exp(v_j - v_ai).
                double ai = values[_output.AiIndex], sum = 0;
                foreach (float v in values)
                {
                    sum += Math.Exp(v - ai);
                }

                return (1.0 / sum, double.NaN);
            default:
                return (values.Length == 1 ? values[0] : values[_output.AiIndex], double.NaN);
        }
    }

    // The CUDA provider for GPU id.Index, ahead of the CPU provider that ONNX Runtime always keeps for nodes CUDA lacks.
    private static void AppendCuda(SessionOptions options, DeviceId id, CudaOptions cuda)
    {
        // The options first: a mistake in them is reported on any build, not only once the node has a GPU.
        Dictionary<string, string> settings = CudaProviderSettings(id, cuda);
        if (!HasCudaProvider)
        {
            throw new NotSupportedException(
                $"Device '{id}': this build has no CUDA provider (ONNX Runtime providers: {string.Join(", ", AvailableProviders)}). " +
                "Build for GPU nodes with -p:ArtGridGpu=true (docs/GPU.md).");
        }

        try
        {
            using var provider = new OrtCUDAProviderOptions();
            provider.UpdateOptions(settings);
            options.AppendExecutionProvider_CUDA(provider);
        }
        catch (OnnxRuntimeException ex)
        {
            // The GPU package lists the provider whether or not CUDA and cuDNN are installed; loading it is the test.
            throw new NotSupportedException(
                $"Device '{id}': the CUDA provider did not load: {ex.Message} (it needs an NVIDIA driver and the CUDA and cuDNN libraries of docs/GPU.md on the library path).", ex);
        }
    }

    /// <summary>The CUDA provider's settings (ONNX Runtime's names and values) for GPU <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentException"><see cref="CudaOptions.ConvAlgoSearch"/> is not Exhaustive, Heuristic or Default.</exception>
    internal static Dictionary<string, string> CudaProviderSettings(DeviceId id, CudaOptions cuda)
    {
        string search = cuda.ConvAlgoSearch?.Trim().ToUpperInvariant() switch
        {
            "EXHAUSTIVE" => "EXHAUSTIVE",
            "HEURISTIC" => "HEURISTIC",
            "DEFAULT" => "DEFAULT",
            _ => throw new ArgumentException(
                $"ArtGrid:Inference:Cuda:ConvAlgoSearch is '{cuda.ConvAlgoSearch}'; it must be Exhaustive, Heuristic or Default.", nameof(cuda)),
        };
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = id.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = search,
            // Copies on the compute stream: ONNX Runtime's default, and separate streams can race (its own warning).
            ["do_copy_in_default_stream"] = "1",
        };
        if (cuda.MemoryLimitMib > 0)
        {
            settings["gpu_mem_limit"] = ((long)cuda.MemoryLimitMib * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
            // Growing by powers of two would overshoot a limit long before the memory in use reaches it.
            settings["arena_extend_strategy"] = "kSameAsRequested";
        }

        return settings;
    }

    private Forwarded Forward(IReadOnlyList<float[]> inputs, bool keepFeatureMap)
    {
        ArgumentOutOfRangeException.ThrowIfZero(inputs.Count);
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Length != _inputLength)
            {
                throw new ArgumentException($"Input {i} has {inputs[i].Length} values; the model takes {_inputLength}.", nameof(inputs));
            }
        }

        if (!_oneImagePerRun || inputs.Count == 1)
        {
            return RunBatch(inputs, keepFeatureMap);
        }

        // A graph with a fixed batch of one (backbone.dynamicBatch false) takes the batch an image at a time.
        Forwarded[] parts = [.. inputs.Select(input => RunBatch([input], keepFeatureMap))];
        return new Forwarded(
            [.. parts.SelectMany(p => p.Features)],
            keepFeatureMap ? [.. parts.SelectMany(p => p.MapSums!)] : null);
    }

    private Forwarded RunBatch(IReadOnlyList<float[]> inputs, bool keepFeatureMap)
    {
        int n = inputs.Count;
        var batch = new float[n * _inputLength];
        for (int i = 0; i < n; i++)
        {
            inputs[i].CopyTo(batch, i * _inputLength);
        }

        long[] shape = [n, .. _inputShapeTail];
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(batch, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = UsesIoBinding ? RunBound(runOptions, input) : _session.Run(runOptions, [Input.Name], [input], _outputNames);

        var features = new float[n][];
        for (int i = 0; i < n; i++)
        {
            features[i] = new float[FeatureCount];
        }

        // The map's weighted sums are taken straight from the output: copying an image's whole feature map out would
        // cost a large-object allocation per image (ResNet-18's second stage: 128 x 28 x 28 floats).
        double[][]? mapSums = keepFeatureMap ? new double[n][] : null;
        OutputShape? mapShape = keepFeatureMap ? _shapes[_featureMapIndex] : null;
        for (int i = 0; mapSums is not null && i < n; i++)
        {
            mapSums[i] = new double[mapShape!.Cells];
        }

        for (int k = 0; k < _outputNames.Length; k++)
        {
            OutputShape expected = _shapes[k];
            long[] actual = outputs[k].GetTensorTypeAndShape().Shape;
            if (actual.Length != expected.Dims.Length || actual[0] != n || !actual.AsSpan(1).SequenceEqual(expected.Dims.AsSpan(1)))
            {
                throw new InvalidDataException(
                    $"{_backbonePath}: output '{_outputNames[k]}' is [{string.Join(", ", actual)}] for a batch of {n}; the first run gave [{string.Join(", ", expected.Dims)}] for one image.");
            }

            ReadOnlySpan<float> data = outputs[k].GetTensorDataAsSpan<float>();
            int perImage = expected.Channels * expected.Cells;
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> image = data.Slice(i * perImage, perImage);
                Pool(image, expected.Channels, expected.Cells, features[i].AsSpan(expected.Offset, expected.Channels));
                // Every convolutional output whose grid tiles the feature map's adds its part of the logit, each of its
                // cells spread over the feature-map cells it covers: the map then accounts for all of those features.
                if (mapSums is not null && (k == _featureMapIndex || Tiles(expected, mapShape!)))
                {
                    double[] sums = ClassActivationMaps.WeightedSums(image, expected.Channels, expected.Cells, _head!, expected.Offset);
                    AddUpsampled(mapSums[i], mapShape!, sums, expected);
                }
            }
        }

        return new Forwarded(features, mapSums);
    }

    // The batch through an IOBinding: the input is bound where it lies (the managed batch buffer, pinned for the call),
    // and every output to CPU memory, so that ONNX Runtime copies each result off the device once, into memory it
    // allocates, and returns them in the order bound. A binding is not thread-safe; one per call keeps Run's guarantee.
    private IDisposableReadOnlyCollection<OrtValue> RunBound(RunOptions runOptions, OrtValue input)
    {
        using OrtIoBinding binding = _session.CreateIoBinding();
        binding.BindInput(Input.Name, input);
        foreach (string name in _outputNames)
        {
            binding.BindOutputToDevice(name, OrtMemoryInfo.DefaultInstance);
        }

        binding.SynchronizeBoundInputs();
        IDisposableReadOnlyCollection<OrtValue> outputs = _session.RunWithBoundResults(runOptions, binding);
        binding.SynchronizeBoundOutputs();
        return outputs;
    }

    // A coarser map whose cells each cover a whole block of the feature map's (ResNet's stages halve the grid).
    private static bool Tiles(OutputShape coarse, OutputShape map) =>
        coarse.Cells > 1 && coarse.Height <= map.Height && coarse.Width <= map.Width && map.Height % coarse.Height == 0 && map.Width % coarse.Width == 0;

    private static void AddUpsampled(double[] target, OutputShape map, double[] source, OutputShape shape)
    {
        int fy = map.Height / shape.Height, fx = map.Width / shape.Width;
        for (int y = 0; y < map.Height; y++)
        {
            for (int x = 0; x < map.Width; x++)
            {
                target[(y * map.Width) + x] += source[((y / fy) * shape.Width) + (x / fx)];
            }
        }
    }

    // Mean over the cells of each channel ([C, cells] row-major); cells = 1 copies.
    private static void Pool(ReadOnlySpan<float> values, int channels, int cells, Span<float> destination)
    {
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> plane = values.Slice(c * cells, cells);
            double sum = 0;
            foreach (float v in plane)
            {
                sum += v;
            }

            destination[c] = (float)(sum / cells);
        }
    }

    // One blank image through the graph: the outputs' shapes, checked to be [1, F] or [1, C, H, W] of floats.
    private OutputShape[] Probe()
    {
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(new float[_inputLength], [1, .. _inputShapeTail]);
        using var runOptions = new RunOptions();
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(runOptions, [Input.Name], [input], _outputNames);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"{_backbonePath} fails on a {Input.Width}x{Input.Height} input: {ex.Message}", ex);
        }

        using (outputs)
        {
            var shapes = new OutputShape[_outputNames.Length];
            int offset = 0;
            for (int k = 0; k < shapes.Length; k++)
            {
                OrtTensorTypeAndShapeInfo info = outputs[k].GetTensorTypeAndShape();
                long[] dims = info.Shape;
                string described = $"'{_outputNames[k]}' [{string.Join(", ", dims)}]";
                if (info.ElementDataType != TensorElementType.Float)
                {
                    throw new InvalidDataException($"{_backbonePath}: output {described} holds {info.ElementDataType}, not float.");
                }

                if (dims is not ([1, > 0] or [1, > 0, > 0, > 0]))
                {
                    throw new InvalidDataException($"{_backbonePath}: output {described} for one image is not [1, F] or [1, C, H, W].");
                }

                if (k == _featureMapIndex && dims.Length != 4)
                {
                    throw new InvalidDataException($"{_backbonePath}: backbone.featureMap {described} is not a feature map [N, C, H, W].");
                }

                shapes[k] = new OutputShape(dims, offset);
                offset += shapes[k].Channels;
            }

            return shapes;
        }
    }

    private void CheckAgainstConfig(IReadOnlyList<string>? labels)
    {
        string outputs = string.Join(" + ", _outputNames.Select((name, k) => $"{name} [{string.Join(", ", _shapes[k].Dims)}]"));
        if (_output.Kind == OutputKind.Features)
        {
            if (_head is not null && _head.FeatureCount != FeatureCount)
            {
                throw new InvalidDataException($"The head weighs {_head.FeatureCount} features; {outputs} of {_backbonePath} give {FeatureCount}.");
            }

            return;
        }

        if (FeatureCount >= 2 && _output.AiIndex >= FeatureCount)
        {
            throw new InvalidDataException($"output.aiIndex {_output.AiIndex} is outside the {FeatureCount} columns of {outputs} ({_backbonePath}).");
        }

        if (FeatureCount >= 2 && labels is not null && labels.Count != FeatureCount)
        {
            throw new InvalidDataException($"labels names {labels.Count} classes ({string.Join(", ", labels)}); {outputs} of {_backbonePath} has {FeatureCount} columns.");
        }
    }

    public void Dispose() => _session.Dispose();

    // MapSums: per image, the activation map before its shift (ClassActivationMaps.WeightedSums).
    private readonly record struct Forwarded(float[][] Features, double[][]? MapSums);

    /// <summary>One output's shape for one image, and where its pooled values start in the feature vector.</summary>
    private sealed record OutputShape(long[] Dims, int Offset)
    {
        public int Channels => (int)Dims[1];

        public int Height => Dims.Length == 4 ? (int)Dims[2] : 1;

        public int Width => Dims.Length == 4 ? (int)Dims[3] : 1;

        public int Cells => Height * Width;
    }
}
