using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Models;
using ArtGrid.Hosting.Embedded;
using ArtGrid.Inference;
using ArtGrid.Inference.Devices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML.OnnxRuntime;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace ArtGrid.Bench;

/// <summary>
/// The baseline for inference: ONNX Runtime called directly on the graph the grain serves (the same
/// <see cref="OnnxGraphs.Prepare"/>d, pruned graph, the same session options and threads), on a ready-made contiguous
/// batch, each image's feature map averaged and put through the linear head. No queue, no copy, no grain.
/// </summary>
internal sealed class RawOrt : IDisposable
{
    private readonly InferenceSession _session;
    private readonly LoadedModel _model;
    private readonly string[] _outputNames;
    private readonly ConcurrentDictionary<int, float[]> _batches = new();
    private readonly IReadOnlyList<float[]> _tensors;

    /// <param name="intraOpThreads">As <see cref="InferenceOptions.IntraOpThreads"/>: 0 lets ONNX Runtime choose.</param>
    public RawOrt(LoadedModel model, int intraOpThreads, IReadOnlyList<float[]> tensors)
    {
        _model = model;
        _tensors = tensors;
        _outputNames = [.. model.Config.Backbone.OutputNames];
        // As OnnxModelSession builds its session.
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (intraOpThreads > 0)
        {
            options.IntraOpNumThreads = intraOpThreads;
        }

        _session = new InferenceSession(OnnxGraphs.Load(model.BackbonePath, model.Config.Backbone, model.Input), options);
        Threads = intraOpThreads;
        RunBatch(1); // first-run allocations, as the served session does on creation
    }

    public int Threads { get; }

    /// <summary>Images per second over <paramref name="images"/> images in batches of <paramref name="batchSize"/>.</summary>
    public double Throughput(int batchSize, int images)
    {
        int batches = Math.Max(1, images / batchSize);
        long start = Stopwatch.GetTimestamp();
        for (int b = 0; b < batches; b++)
        {
            RunBatch(batchSize);
        }

        return batches * batchSize / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>
    /// Images per second with <paramref name="callers"/> threads each running batches on the same session, so that a
    /// session of fewer threads than cores can still have the whole machine (ONNX Runtime sessions take concurrent runs).
    /// </summary>
    public double Throughput(int batchSize, int images, int callers)
    {
        if (callers <= 1)
        {
            return Throughput(batchSize, images);
        }

        int batches = Math.Max(callers, images / batchSize);
        long start = Stopwatch.GetTimestamp();
        Parallel.For(0, batches, new ParallelOptions { MaxDegreeOfParallelism = callers }, _ => RunBatch(batchSize));
        return batches * batchSize / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>One Run call on a batch of <paramref name="n"/>; returns the AI probabilities.</summary>
    public double[] RunBatch(int n)
    {
        float[] batch = _batches.GetOrAdd(n, size =>
        {
            int length = _model.Input.ElementCount;
            var filled = new float[size * length];
            for (int i = 0; i < size; i++)
            {
                _tensors[i % _tensors.Count].CopyTo(filled, i * length);
            }

            return filled;
        });

        long[] shape = _model.Input.Layout == TensorLayout.Nchw
            ? [n, 3, _model.Input.Height, _model.Input.Width]
            : [n, _model.Input.Height, _model.Input.Width, 3];
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(batch, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, [_model.Input.Name], [input], _outputNames);
        LinearHead head = _model.Head ?? throw new InvalidOperationException($"{_model.Id} has no linear head.");
        var features = new float[n][];
        for (int i = 0; i < n; i++)
        {
            features[i] = new float[head.FeatureCount];
        }

        int offset = 0;
        foreach (OrtValue output in outputs)
        {
            long[] dims = output.GetTensorTypeAndShape().Shape;
            int channels = (int)dims[1];
            int cells = dims.Length == 4 ? (int)(dims[2] * dims[3]) : 1;
            ReadOnlySpan<float> data = output.GetTensorDataAsSpan<float>();
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> image = data.Slice(i * channels * cells, channels * cells);
                for (int c = 0; c < channels; c++)
                {
                    double sum = 0;
                    foreach (float v in image.Slice(c * cells, cells))
                    {
                        sum += v;
                    }

                    features[i][offset + c] = (float)(sum / cells);
                }
            }

            offset += channels;
        }

        return [.. features.Select(f => head.Probability(f))];
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>
/// Part 2: raw ONNX Runtime against the inference grain (InferenceGrain.InferAsync through its DynamicBatcher, in an
/// in-process silo started as <c>artgrid score</c> starts it), at batch sizes 1, 8 and 16, fed the same ready-made
/// tensors, with twice the batch size in flight so that every batch can fill.
/// </summary>
internal sealed class InferenceBench(LoadedModel model, string modelsPath, IReadOnlyList<float[]> tensors)
{
    public static readonly int[] BatchSizes = [1, 8, 16];

    public sealed record Row(int BatchSize, Spread RawAllCores, Spread RawServed, Spread Grain, Spread GrainOverRaw, Spread ServedOverAllCores, double MeanGrainBatch);

    public sealed record Result(List<Row> Rows, int ServedBatch, int ServedThreads, Dictionary<string, double[]> Rounds);

    /// <param name="servedThreads">The grain's <see cref="InferenceOptions.EffectiveIntraOpThreads"/>.</param>
    public async Task<Result> RunAsync(int rounds, int imagesPerRound, int servedBatch, int servedThreads, CancellationToken cancellationToken)
    {
        // Beside the served thread count, ONNX Runtime with every core, as it runs when nothing else needs the CPU.
        using var rawAll = new RawOrt(model, 0, tensors);
        using var rawServed = new RawOrt(model, servedThreads, tensors);
        var rows = new List<Row>();
        var raw = new Dictionary<string, double[]>();
        foreach (int batch in BatchSizes)
        {
            Progress.Say($"  inference, batch {batch}: starting a silo with MaxBatchSize {batch}");
            await using EmbeddedCluster cluster = await StartAsync(modelsPath, model.Id, batch, servedThreads, cancellationToken);
            IInferenceGrain grain = cluster.Services.GetRequiredService<IGrainFactory>().GetGrain<IInferenceGrain>(DeviceKey.Format(model.Id, "cpu:0", cluster.Services.GetRequiredService<ILocalSiloDetails>().Name));
            var batchSizes = new ConcurrentBag<int>();
            int n = RoundUp(imagesPerRound, batch);
            _ = rawAll.Throughput(batch, batch);
            _ = rawServed.Throughput(batch, n);
            _ = await GrainThroughputAsync(grain, batch, n, null, cancellationToken);
            double[][] values = await Rounds.RunAsync(rounds,
            [
                () => Task.FromResult(rawAll.Throughput(batch, n)),
                () => Task.FromResult(rawServed.Throughput(batch, n)),
                () => GrainThroughputAsync(grain, batch, n, batchSizes, cancellationToken),
            ],
            (round, v) => Progress.Say($"  inference, batch {batch}, round {round + 1}/{rounds}: raw every core {v[0]:0.0}, raw served {v[1]:0.0}, grain {v[2]:0.0} images/s"));
            rows.Add(new Row(
                batch,
                Spread.Of(values[0]),
                Spread.Of(values[1]),
                Spread.Of(values[2]),
                Spread.OfRatios(values[2], values[1]),
                Spread.OfRatios(values[1], values[0]),
                batchSizes.IsEmpty ? double.NaN : batchSizes.Average()));
            raw[$"raw_allcores_b{batch}_images_per_s"] = values[0];
            raw[$"raw_served_b{batch}_images_per_s"] = values[1];
            raw[$"grain_b{batch}_images_per_s"] = values[2];
        }

        return new Result(rows, servedBatch, servedThreads, raw);
    }

    /// <summary>Images per second through the grain, <paramref name="images"/> requests with 2 x batch in flight.</summary>
    public async Task<double> GrainThroughputAsync(IInferenceGrain grain, int batch, int images, ConcurrentBag<int>? batchSizes, CancellationToken cancellationToken)
    {
        int next = -1;
        long start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Math.Max(2, 2 * batch)).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < images)
            {
                InferenceResult result = await grain.InferAsync(tensors[i % tensors.Count].AsImmutable(), cancellationToken);
                batchSizes?.Add(result.BatchSize);
            }
        }, cancellationToken)));
        return images / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>The embedded cluster of <c>artgrid score</c>, with in-process decoding (this part decodes nothing).</summary>
    public static async Task<EmbeddedCluster> StartAsync(string modelsPath, string modelId, int maxBatch, int threads, CancellationToken cancellationToken)
    {
        Dictionary<string, string?> settings = EmbeddedCluster.Settings(modelsPath, modelId, maxBatch);
        settings[$"{InferenceOptions.SectionName}:{nameof(InferenceOptions.IntraOpThreads)}"] = threads.ToString(CultureInfo.InvariantCulture);
        settings["ArtGrid:Preprocessing:Isolation"] = "InProcess";
        return await EmbeddedCluster.StartOrReportAsync("bench", settings, 1, verbose: false, cancellationToken)
            ?? throw new InvalidOperationException("the embedded cluster did not start (see above)");
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
