using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Hosting.Embedded;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ArtGrid.Bench;

/// <summary>
/// Part 3: images per second of the embedded pipeline (<see cref="EmbeddedCluster"/> + <see cref="EmbeddedScorer"/>, as
/// <c>artgrid score</c> runs it: decode workers, preprocessing, the batching inference grain, the verdict), against the
/// limit that its parts set on the same cores in the same run.
///
/// Both parts are measured with the whole machine on them, so their times are machine-seconds per image:
/// t_pre = 1 / (images/s of ImagePreprocessor.Prepare, one image per core in flight, one thread each, as the decode
/// workers run), t_infer = 1 / (images/s of raw ONNX Runtime at the served batch size and threads, with as many
/// concurrent runs as it takes to cover the cores: cores / threads). A pipeline that
/// spent the machine on nothing but these two would score 1 / (t_pre + t_infer) images/s; in CPU-seconds
/// (cores x machine-seconds) the same limit reads cores / (cpu_pre + cpu_infer). pipeline_ratio is the pipeline's
/// images/s over that limit, paired round by round.
/// </summary>
internal sealed class PipelineBench(LoadedModel model, IReadOnlyList<Photo> photos, RawOrt rawServed, int servedBatch, string scratch)
{
    public const int InFlight = 64; // artgrid score's default --in-flight

    public sealed record Result(
        int ImagesPerRound,
        Spread PipelineImagesPerSecond,
        Spread LimitImagesPerSecond,
        Spread Ratio,
        Spread TPreMs,
        Spread TInferMs,
        double P50Ms,
        double P90Ms,
        double P99Ms,
        double AloneP50Ms,
        double AloneP99Ms,
        Spread PipelineCpuMsPerImage,
        Spread BusyCores,
        Spread PreprocessCpuMsPerImage,
        Spread InferCpuMsPerImage,
        double MeanBatch,
        Dictionary<int, int> BatchSizes,
        double[] LatenciesMs,
        int Failed,
        Dictionary<string, double[]> Rounds);

    public async Task<Result> RunAsync(EmbeddedCluster cluster, int rounds, int copies, CancellationToken cancellationToken)
    {
        int cores = Environment.ProcessorCount;
        var preprocessor = new ImagePreprocessor(Options.Create(new PreprocessingOptions { MaxDegreeOfParallelism = 1 }));
        var latencies = new ConcurrentBag<double>();
        int failed = 0;
        EmbeddedScorer scorer = cluster.CreateScorer(InFlight, elapsed => latencies.Add(elapsed.TotalMilliseconds));

        // Unique copies for the warm-up, every round and the one-in-flight run, written before anything is timed.
        var files = new List<List<string>> { PhotoMix.WriteUniqueCopies(photos, 1, Path.Combine(scratch, "pipeline-warm-up")) };
        for (int round = 0; round < rounds; round++)
        {
            files.Add(PhotoMix.WriteUniqueCopies(photos, copies, Path.Combine(scratch, $"pipeline-{round}")));
        }

        List<string> alone = PhotoMix.WriteUniqueCopies(photos, 1, Path.Combine(scratch, "pipeline-alone"));

        byte[][] bytes = [.. Enumerable.Repeat(photos, copies).SelectMany(p => p).Select(p => p.Bytes)];
        int images = bytes.Length;
        int inferImages = Math.Max(images / servedBatch, 2) * servedBatch;
        int nextRound = 0;

        var pipelineCpuMs = new List<double>();
        var busyCores = new List<double>();
        var preprocessCpuMs = new List<double>();
        var inferCpuMs = new List<double>();
        var batchSizes = new ConcurrentBag<int>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        bool listening = false;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ArtGridMeter.Name && instrument.Name == "artgrid.inference.batch.size")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, size, _, _) =>
        {
            if (Volatile.Read(ref listening))
            {
                batchSizes.Add(size);
            }
        });
        listener.Start();

        async Task<double> Pipeline()
        {
            List<string> round = files[nextRound++];
            TimeSpan cpuStart = ProcessTree.CpuTime();
            Volatile.Write(ref listening, nextRound > 1);
            double seconds = await Stats.SecondsAsync(() => scorer.RunAsync(round, (_, score) =>
            {
                if (score.Error is not null)
                {
                    Interlocked.Increment(ref failed);
                }

                return Task.CompletedTask;
            }, cancellationToken));
            Volatile.Write(ref listening, false);
            double cpu = (ProcessTree.CpuTime() - cpuStart).TotalMilliseconds;
            if (nextRound > 1)
            {
                pipelineCpuMs.Add(cpu / round.Count);
                busyCores.Add(cpu / 1000 / seconds);
            }

            return round.Count / seconds;
        }

        double Preprocess()
        {
            TimeSpan cpuStart = CpuTime.Self;
            double perSecond = images / Stats.Seconds(() => Parallel.ForEach(bytes, new ParallelOptions { MaxDegreeOfParallelism = cores }, b =>
            {
                if (preprocessor.Prepare(b, model.Input).Error is { } error)
                {
                    throw new InvalidDataException($"{error.Code}: {error.Message}");
                }
            }));
            preprocessCpuMs.Add((CpuTime.Self - cpuStart).TotalMilliseconds / images);
            return perSecond;
        }

        double Infer()
        {
            TimeSpan cpuStart = CpuTime.Self;
            // A session of fewer threads than cores gets one caller per share of the cores: the whole machine, as
            // preprocessing has it.
            double perSecond = rawServed.Throughput(servedBatch, inferImages, InferCallers(cores));
            inferCpuMs.Add((CpuTime.Self - cpuStart).TotalMilliseconds / inferImages);
            return perSecond;
        }

        // Warm-up: worker start, JIT, first batches.
        _ = await Pipeline();
        _ = Preprocess();
        latencies.Clear();
        preprocessCpuMs.Clear();
        failed = 0;

        double[][] values = await Rounds.RunAsync(rounds,
        [
            Pipeline,
            () => Task.FromResult(Preprocess()),
            () => Task.FromResult(Infer()),
        ],
        (round, v) => Progress.Say($"  pipeline round {round + 1}/{rounds}: {v[0]:0.0} images/s ({pipelineCpuMs[round]:0} CPU-ms per image, {busyCores[round]:0.00} cores busy); preprocessing alone {v[1]:0.0} ({preprocessCpuMs[round]:0} CPU-ms), inference alone {v[2]:0.0} images/s ({inferCpuMs[round]:0} CPU-ms), limit {Limit(v[1], v[2]):0.0}"));

        // Latency with nothing else in flight: the service time of one image.
        var aloneLatencies = new ConcurrentBag<double>();
        await cluster.CreateScorer(1, elapsed => aloneLatencies.Add(elapsed.TotalMilliseconds))
            .RunAsync(alone, (_, _) => Task.CompletedTask, cancellationToken);
        Progress.Say($"  pipeline, one image in flight: p50 {Stats.Percentile(aloneLatencies, 50):0} ms over {alone.Count} images");

        foreach (List<string> round in files.Append(alone))
        {
            foreach (string file in round)
            {
                File.Delete(file);
            }
        }

        double[] limit = [.. values[1].Zip(values[2], Limit)];
        double[] all = [.. latencies];
        return new Result(
            images,
            Spread.Of(values[0]),
            Spread.Of(limit),
            Spread.OfRatios(values[0], limit),
            Spread.Of(values[1].Select(v => 1000 / v)),
            Spread.Of(values[2].Select(v => 1000 / v)),
            Stats.Percentile(all, 50),
            Stats.Percentile(all, 90),
            Stats.Percentile(all, 99),
            Stats.Percentile(aloneLatencies, 50),
            Stats.Percentile(aloneLatencies, 99),
            Spread.Of(pipelineCpuMs),
            Spread.Of(busyCores),
            Spread.Of(preprocessCpuMs),
            Spread.Of(inferCpuMs),
            batchSizes.IsEmpty ? double.NaN : batchSizes.Average(),
            batchSizes.GroupBy(b => b).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
            all,
            failed,
            new Dictionary<string, double[]>
            {
                ["pipeline_images_per_s"] = values[0],
                ["preprocess_parallel_images_per_s"] = values[1],
                ["infer_served_images_per_s"] = values[2],
                ["limit_images_per_s"] = limit,
                ["pipeline_cpu_ms_per_image"] = [.. pipelineCpuMs],
                ["pipeline_busy_cores"] = [.. busyCores],
                ["preprocess_cpu_ms_per_image"] = [.. preprocessCpuMs],
                ["infer_cpu_ms_per_image"] = [.. inferCpuMs],
            });
    }

    private int InferCallers(int cores) => rawServed.Threads > 0 ? Math.Max(1, cores / rawServed.Threads) : 1;

    // 1 / (t_pre + t_infer), from the two throughputs.
    public static double Limit(double preprocessPerSecond, double inferPerSecond) => 1 / ((1 / preprocessPerSecond) + (1 / inferPerSecond));

    /// <summary>The cluster as <c>artgrid score</c> starts it: default settings (decode workers, batch, threads) but the model repository.</summary>
    public static async Task<EmbeddedCluster> StartAsync(string modelsPath, string modelId, CancellationToken cancellationToken) =>
        await EmbeddedCluster.StartOrReportAsync("bench", EmbeddedCluster.Settings(modelsPath, modelId, null), InFlight, verbose: false, cancellationToken)
        ?? throw new InvalidOperationException("the embedded cluster did not start (see above)");
}
