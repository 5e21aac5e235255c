using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ArtGrid.Hosting;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Sandbox;
using ArtGrid.Inference;
using ArtGrid.Inference.Devices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ArtGrid.Bench;

/// <summary>
/// The node capacity model: the real decode path (the decode worker pool a silo runs, built from the same services and
/// settings: sandboxed worker processes, the default decoder, reduced JPEG decoding, tensor packing in the host) feeding
/// a simulated GPU (<see cref="SimulatedDevice"/>: a batch of n takes base + per-image x n ms) through the product's
/// <see cref="DynamicBatcher{TIn,TOut}"/> with the served batch settings, closed-loop, on real photographs.
///
/// Per image-size class of the photo mix and for the whole mix, in rounds that rotate their order, it measures:
/// decoding alone with one worker and with C (CPU-ms per image, images/s, busy cores, so how decoding scales from 1 to
/// C), and the pipeline of C workers and the GPU (images/s, how busy each stage was, hence the bottleneck). From these
/// the model (<see cref="CapacityModel"/>) gives the cores one GPU of a given rate needs and what a node of 16, 32 or
/// 64 cores delivers: beyond the C cores measured here that is an extrapolation, which assumes the efficiency measured
/// at C holds. The model's efficiency is per core (<see cref="CapacityModel.PerCoreEfficiency"/>), which other work on
/// a shared machine does not move; the wall-clock scaling (<see cref="CapacityModel.Efficiency"/>) is printed beside it,
/// with the cores the run got, for a machine that is the bench's alone.
/// </summary>
internal static class CapacityBench
{
    private const string Mix = "mix";

    public static async Task<int> RunAsync(string[] args)
    {
        bool quick = args.Contains("--quick");
        int cores = CommandLine.PositiveInt(args, "--cores", Environment.ProcessorCount);
        int rounds = CommandLine.PositiveInt(args, "--rounds", quick ? 2 : 5);
        double seconds = PositiveDouble(args, "--seconds", quick ? 2.5 : 8);
        double[] tableRates = Doubles(args, "--table-rates", [1_000, 5_000, 20_000]);
        int[] nodeSizes = [.. Doubles(args, "--node-cores", [16, 32, 64]).Select(d => (int)d)];
        string outDir = CommandLine.Option(args, "--out") ?? Path.Combine(PhotoMix.RepositoryRoot(), "bench-results");
        string folder = await PhotoMix.EnsureAsync(CommandLine.Option(args, "--photos"), Path.Combine(outDir, "photo-mix"));
        List<Photo> photos = PhotoMix.Load(folder);
        if (photos.Count == 0)
        {
            throw new InvalidDataException($"{folder} holds no photographs.");
        }

        // One pool of one worker, one of C: each built as a silo builds it, from its services and settings
        // (ArtGrid__Preprocessing__* and ArtGrid__Inference__* variables included), the worker count alone set here.
        await using ServiceProvider one = Services(1);
        await using ServiceProvider many = Services(cores);
        PreprocessingOptions preprocessing = many.GetRequiredService<IOptions<PreprocessingOptions>>().Value;
        InferenceOptions inference = many.GetRequiredService<IOptions<InferenceOptions>>().Value;
        ModelInputSpec spec = many.GetRequiredService<ModelSessions>().DefaultModel.Input;
        DecodeSandbox single = one.GetRequiredService<DecodeSandbox>();
        DecodeSandbox pool = many.GetRequiredService<DecodeSandbox>();

        var gpuOptions = new SimulatedDeviceOptions();
        if (CommandLine.Option(args, "--base-ms") is not null || CommandLine.Option(args, "--per-image-ms") is not null)
        {
            gpuOptions.BaseMs = PositiveDouble(args, "--base-ms", gpuOptions.BaseMs);
            gpuOptions.PerImageMs = PositiveDouble(args, "--per-image-ms", gpuOptions.PerImageMs);
        }
        else
        {
            (gpuOptions.BaseMs, gpuOptions.PerImageMs) = CapacityModel.SimulatedGpu(PositiveDouble(args, "--gpu-images-per-s", 1_000), inference.MaxBatchSize);
        }

        double gpuRate = gpuOptions.Capacity(inference.MaxBatchSize);
        var gpu = new Gpu(spec.ElementCount, gpuOptions, inference);

        Progress.Say($"capacity: {cores} decode workers ({preprocessing.Decoder}, reduced JPEG decoding {(preprocessing.ReducedJpegDecode ? "on" : "off")}) against a simulated GPU of {gpuRate:0} images/s " +
            $"(batch {inference.MaxBatchSize} in {gpuOptions.BaseMs:0.###} + {gpuOptions.PerImageMs:0.####} x n ms, queue delay {inference.MaxQueueDelayMs} ms); {photos.Count} photographs from {folder}; " +
            $"{rounds} rounds of {seconds} s per measurement; load average {LoadAverage()}");
        await Task.WhenAll(single.StartAsync(), pool.StartAsync());

        var sets = new List<(string Name, byte[][] Images)>();
        foreach (string sizeClass in PhotoMix.Classes)
        {
            byte[][] images = [.. photos.Where(p => p.SizeClass == sizeClass).Select(p => p.Bytes)];
            if (images.Length > 0)
            {
                sets.Add((sizeClass, images));
            }
        }

        sets.Add((Mix, [.. photos.Select(p => p.Bytes)]));

        // Untimed: every worker decodes every file once (JIT, page cache, the decoders' tables).
        Progress.Say("warm-up: every file once through each pool");
        await RunAsync(single, 1, spec, sets[^1].Images, inFlight: 2, TimeSpan.Zero, null, photos.Count);
        await RunAsync(pool, cores, spec, sets[^1].Images, inFlight: 2 * cores, TimeSpan.Zero, gpu, photos.Count);

        var measurements = new List<Func<Task<double>>>();
        var results = sets.ToDictionary(s => s.Name, _ => new SetRounds());
        foreach ((string name, byte[][] images) in sets)
        {
            SetRounds r = results[name];
            measurements.Add(async () => r.Record(r.One, await RunAsync(single, 1, spec, images, inFlight: 2, TimeSpan.FromSeconds(seconds), null)));
            measurements.Add(async () => r.Record(r.Many, await RunAsync(pool, cores, spec, images, inFlight: 2 * cores, TimeSpan.FromSeconds(seconds), null)));
            measurements.Add(async () => r.Record(r.Pipeline, await RunAsync(pool, cores, spec, images, inFlight: Math.Max(2 * cores, 2 * inference.MaxBatchSize), TimeSpan.FromSeconds(seconds), gpu)));
        }

        await Rounds.RunAsync(rounds, measurements, (round, _) =>
            Progress.Say($"  round {round + 1}/{rounds}: mix {results[Mix].One[round].ImagesPerSecond:0.0} images/s on 1 worker, {results[Mix].Many[round].ImagesPerSecond:0.0} on {cores}, " +
                $"{results[Mix].Pipeline[round].ImagesPerSecond:0.0} with the GPU; load average {LoadAverage()}"));

        await gpu.Batcher.DisposeAsync();
        var summaries = sets.ToDictionary(s => s.Name, s => results[s.Name].Summarise(cores, gpuRate));
        int failed = results.Values.Sum(r => r.Failed);
        long restarts = single.Restarts + pool.Restarts;

        var scaling = new Table("set", "files", "1 worker: images/s", "CPU-ms/image", "busy cores", $"{cores} workers: images/s", "CPU-ms/image", "busy cores", "per core", "wall X_C/(C X_1)");
        foreach ((string name, byte[][] images) in sets)
        {
            Summary s = summaries[name];
            scaling.Row(Label(name), images.Length, s.One.Rate, s.One.CpuMs, s.One.BusyCores, s.Many.Rate, s.Many.CpuMs, s.Many.BusyCores, s.PerCore, s.Wall);
        }

        scaling.Print($"Decoding alone, 1 worker against {cores}, and the efficiency of {cores} (paired rounds: median [range]); decoder {preprocessing.Decoder}");
        Console.WriteLine(cores == 1
            ? "One core measured: the efficiency is 1 by definition and every node size below is extrapolated from one worker."
            : $"Measured from 1 to {cores} workers on this machine only: every figure for more than {cores} cores is extrapolated, assuming the efficiency measured at {cores} holds.");
        Console.WriteLine("per core: images/s per busy core, C workers against 1 (= CPU-ms on 1 / CPU-ms on C), the model's efficiency; wall: images/s, C workers against C x 1,");
        Console.WriteLine("which also falls when other work takes cores (busy cores below the workers' count): use it on a machine that is the bench's alone.");

        var pipeline = new Table("set", "images/s (this node)", "bottleneck", "decode busy", "GPU busy", "mean batch", "decode CPU-ms/image", $"cores per GPU at {gpuRate:0}/s", "with wall efficiency");
        foreach ((string name, _) in sets)
        {
            Summary s = summaries[name];
            pipeline.Row(Label(name), s.Pipeline.Rate, s.Bottleneck, s.Pipeline.DecodeBusy, s.Pipeline.GpuBusy, s.Pipeline.MeanBatch, s.One.CpuMs.Median, s.CoresPerGpu, s.CoresPerGpuWall);
        }

        pipeline.Print($"{cores} decode workers feeding a simulated GPU of {gpuRate:0} images/s, closed loop (decode CPU-ms: one worker, host included)");

        var perGpu = new Table(["GPU images/s", .. sets.Select(s => Label(s.Name))]);
        foreach (double rate in tableRates)
        {
            perGpu.Row([Whole(rate), .. sets.Select(s => (object)CapacityModel.CoresPerGpu(rate, summaries[s.Name].One.CpuMs.Median, summaries[s.Name].PerCore.Median))]);
        }

        perGpu.Print("Cores per GPU: R x decode CPU-ms / 1000 / efficiency (per core)");

        Summary mix = summaries[Mix];
        var nodes = new Table(["GPU images/s", .. nodeSizes.Select(n => $"{n} cores: images/s"), "bottleneck", .. nodeSizes.Select(n => $"GPUs {n} cores keep busy")]);
        foreach (double rate in tableRates)
        {
            (double ImagesPerSecond, string Bottleneck)[] node = [.. nodeSizes.Select(n => CapacityModel.Node(n, 1, rate, mix.One.CpuMs.Median, mix.PerCore.Median))];
            nodes.Row([Whole(rate), .. node.Select(n => (object)Whole(n.ImagesPerSecond)), string.Join(" / ", node.Select(n => n.Bottleneck)),
                .. nodeSizes.Select(n => (object)(n / CapacityModel.CoresPerGpu(rate, mix.One.CpuMs.Median, mix.PerCore.Median)))]);
        }

        nodes.Print($"A node with one GPU, the photo mix ({mix.One.CpuMs.Median:0.0} CPU-ms per image, efficiency {mix.PerCore.Median:0.00} per core; extrapolated beyond {cores} cores)");
        Console.WriteLine();
        Console.WriteLine($"failed images: {failed}; decode workers replaced: {restarts}; load average at the end {LoadAverage()}");

        var line = new List<(string Name, string Value)>
        {
            ("node_images_per_s", Number(mix.Pipeline.Rate.Median, 1)),
            ("bottleneck", mix.Bottleneck),
            ("cores_per_gpu", Number(mix.CoresPerGpu, 2)),
            ("decode_cpu_ms", Number(mix.One.CpuMs.Median, 2)),
            ("gpu_images_per_s", Number(gpuRate, 0)),
            ("cores", Number(cores, 0)),
            ("efficiency", Number(mix.PerCore.Median, 3)),
            ("efficiency_wall", Number(mix.Wall.Median, 3)),
            ("cores_per_gpu_wall", Number(mix.CoresPerGpuWall, 2)),
            ("busy_cores", Number(mix.Many.BusyCores.Median, 2)),
            ("decode_images_per_s_1", Number(mix.One.Rate.Median, 1)),
            ("decode_images_per_s_c", Number(mix.Many.Rate.Median, 1)),
            ("decoder", preprocessing.Decoder.ToString()),
        };
        foreach ((string name, _) in sets.Where(s => s.Name != Mix))
        {
            string key = name.Replace('.', '_');
            line.Add(($"cpu_ms_{key}", Number(summaries[name].One.CpuMs.Median, 2)));
            line.Add(($"cores_per_gpu_{key}", Number(summaries[name].CoresPerGpu, 2)));
        }

        line.Add(("failed", Number(failed, 0)));
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "bench-capacity.json"), JsonSerializer.Serialize(new
        {
            Summary = line.ToDictionary(p => p.Name, p => p.Value),
            Rounds = results.ToDictionary(r => r.Key, r => new { r.Value.One, r.Value.Many, r.Value.Pipeline }),
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Console.WriteLine(string.Join(' ', line.Select(p => $"{p.Name}={p.Value}")));
        return failed == 0 ? 0 : 1;
    }

    /// <summary>The decode services of a silo, from this process's environment, with <paramref name="workers"/> decode workers.</summary>
    private static ServiceProvider Services(int workers)
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                [$"{DecodeSandboxOptions.SectionName}:{nameof(DecodeSandboxOptions.Workers)}"] = workers.ToString(CultureInfo.InvariantCulture),
            })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging();
        services.AddArtGridGrainServices();
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// Closed loop: <paramref name="inFlight"/> images at a time through the pool (and the GPU, when given) until
    /// <paramref name="duration"/> has passed, or <paramref name="count"/> images when given. CPU is the whole process
    /// tree's (host and workers); busy shares are sampled every 10 ms.
    /// </summary>
    private static async Task<Sample> RunAsync(DecodeSandbox pool, int workers, ModelInputSpec spec, byte[][] images, int inFlight, TimeSpan duration, Gpu? gpu, int count = 0)
    {
        int next = -1;
        int done = 0;
        int failed = 0;
        long stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        gpu?.Reset();
        TimeSpan cpuStart = ProcessTree.CpuTime();
        long start = Stopwatch.GetTimestamp();
        using var sampling = new CancellationTokenSource();
        Task<double> busy = SampleBusyAsync(pool, sampling.Token);

        async Task LaneAsync()
        {
            while (true)
            {
                int i = Interlocked.Increment(ref next);
                if (count > 0 ? i >= count : Stopwatch.GetTimestamp() >= stopAt)
                {
                    return;
                }

                PreparedImage prepared = await pool.PrepareAsync(images[i % images.Length], spec);
                if (prepared.Tensor is not { } tensor)
                {
                    Interlocked.Increment(ref failed);
                    Progress.Say($"  an image failed: {prepared.Error?.Code} {prepared.Error?.Message}");
                    continue;
                }

                if (gpu is not null)
                {
                    await gpu.Batcher.EnqueueAsync(tensor);
                }

                Interlocked.Increment(ref done);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(LaneAsync)));
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double cpuMs = (ProcessTree.CpuTime() - cpuStart).TotalMilliseconds;
        await sampling.CancelAsync();
        double decodeBusy = await busy / workers;
        return new Sample(
            done / wall,
            cpuMs / Math.Max(1, done),
            cpuMs / 1000 / wall,
            decodeBusy,
            gpu is null ? double.NaN : gpu.BusySeconds / wall,
            gpu is null ? double.NaN : gpu.MeanBatch,
            done,
            failed);
    }

    // The mean number of workers holding an image, sampled until cancelled.
    private static async Task<double> SampleBusyAsync(DecodeSandbox pool, CancellationToken cancellationToken)
    {
        long sum = 0;
        long samples = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                sum += pool.BusyWorkers;
                samples++;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return samples == 0 ? double.NaN : (double)sum / samples;
    }

    private static string Label(string set) => set switch
    {
        "0.3mp" => "0.3 MP JPEG",
        "2mp" => "2 MP JPEG",
        "12mp" => "12 MP JPEG",
        "png" => "2 MP PNG",
        Mix => "whole mix",
        _ => set,
    };

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static string Whole(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Number(double value, int decimals) =>
        Math.Round(value, decimals).ToString(CultureInfo.InvariantCulture);

    private static double PositiveDouble(string[] args, string name, double fallback)
    {
        string? text = CommandLine.Option(args, name);
        return text is null
            ? fallback
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0 && double.IsFinite(value)
                ? value
                : throw new FormatException($"{name} must be a number above 0, not '{text}'");
    }

    private static double[] Doubles(string[] args, string name, double[] fallback)
    {
        string? text = CommandLine.Option(args, name);
        return text is null
            ? fallback
            : [.. text.Split(',').Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0
                ? v
                : throw new FormatException($"{name} must be numbers above 0 separated by commas, not '{text}'"))];
    }

    /// <summary>One closed-loop run: images/s, CPU-ms per image and busy cores of the process tree, the stages' busy shares.</summary>
    internal sealed record Sample(double ImagesPerSecond, double CpuMsPerImage, double BusyCores, double DecodeBusy, double GpuBusy, double MeanBatch, int Images, int Failed);

    private sealed record Measured(Spread Rate, Spread CpuMs, Spread BusyCores, double DecodeBusy, double GpuBusy, double MeanBatch);

    private sealed record Summary(Measured One, Measured Many, Measured Pipeline, Spread PerCore, Spread Wall, string Bottleneck, double CoresPerGpu, double CoresPerGpuWall);

    private sealed class SetRounds
    {
        public List<Sample> One { get; } = [];

        public List<Sample> Many { get; } = [];

        public List<Sample> Pipeline { get; } = [];

        public int Failed => One.Concat(Many).Concat(Pipeline).Sum(s => s.Failed);

        public double Record(List<Sample> samples, Sample sample)
        {
            samples.Add(sample);
            return sample.ImagesPerSecond;
        }

        public Summary Summarise(int cores, double gpuRate)
        {
            Spread wall = Spread.Of(One.Zip(Many, (a, b) => CapacityModel.Efficiency(a.ImagesPerSecond, b.ImagesPerSecond, cores)));
            Spread perCore = cores == 1 ? new Spread(1, 1, 1) : Spread.Of(One.Zip(Many, (a, b) => CapacityModel.PerCoreEfficiency(a.CpuMsPerImage, b.CpuMsPerImage)));
            Measured pipeline = Measure(Pipeline);
            Measured one = Measure(One);
            return new Summary(
                one,
                Measure(Many),
                pipeline,
                perCore,
                wall,
                CapacityModel.Bottleneck(pipeline.DecodeBusy, pipeline.GpuBusy),
                CapacityModel.CoresPerGpu(gpuRate, one.CpuMs.Median, perCore.Median),
                CapacityModel.CoresPerGpu(gpuRate, one.CpuMs.Median, wall.Median));
        }

        private static Measured Measure(List<Sample> samples) => new(
            Spread.Of(samples.Select(s => s.ImagesPerSecond)),
            Spread.Of(samples.Select(s => s.CpuMsPerImage)),
            Spread.Of(samples.Select(s => s.BusyCores)),
            Stats.Median([.. samples.Select(s => s.DecodeBusy).Order()]),
            Stats.Median([.. samples.Select(s => s.GpuBusy).Order()]),
            Stats.Median([.. samples.Select(s => s.MeanBatch).Order()]));
    }

    /// <summary>A simulated GPU behind the product's batcher, with the served batch settings; it counts its batches.</summary>
    private sealed class Gpu
    {
        private long _batches;
        private long _images;
        private long _busyTicks;

        public Gpu(int inputLength, SimulatedDeviceOptions options, InferenceOptions inference)
        {
            var device = new SimulatedDevice(inputLength, options);
            Batcher = new DynamicBatcher<float[], ModelScore>(
                "sim:0",
                new BatchingOptions(inference.MaxBatchSize, TimeSpan.FromMilliseconds(inference.MaxQueueDelayMs), inference.QueueCapacity, inference.PreferredBatchSizes),
                device.Score,
                onBatch: (size, compute) =>
                {
                    Interlocked.Increment(ref _batches);
                    Interlocked.Add(ref _images, size);
                    Interlocked.Add(ref _busyTicks, compute.Ticks);
                });
        }

        public DynamicBatcher<float[], ModelScore> Batcher { get; }

        public double BusySeconds => TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks)).TotalSeconds;

        public double MeanBatch => (double)Interlocked.Read(ref _images) / Math.Max(1, Interlocked.Read(ref _batches));

        public void Reset()
        {
            Interlocked.Exchange(ref _batches, 0);
            Interlocked.Exchange(ref _images, 0);
            Interlocked.Exchange(ref _busyTicks, 0);
        }
    }
}
