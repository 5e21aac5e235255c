using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Hosting;
using ArtGrid.Inference;
using ArtGrid.Inference.Devices;
using ArtGrid.Inference.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace ArtGrid.Bench;

/// <summary>
/// The device layer at GPU rates on a machine without GPUs: N silos in this process, each with M simulated GPUs,
/// driven with ready-made tensors through the same intake gate, router, placement and batchers a silo uses (decoding
/// cannot keep pace with simulated GPUs on a few cores, so it is left out). Load comes from an open-loop generator
/// (Poisson arrivals that do not wait for answers) feeding a bus-like intake per silo: arrivals wait in a "broker"
/// queue (a counter, as RabbitMQ would hold them) and a bounded set of consumers takes them through the intake gate.
/// Reports throughput at saturation over the devices' summed capacity, mean batch size, latency at 50/80/95% of
/// capacity, and peak resident memory at 2x capacity.
/// </summary>
internal static class DevicesBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        bool full = args.Contains("--full");
        int silos = Int(args, "--silos", 4);
        int devices = Int(args, "--devices", 4);
        int maxBatch = Int(args, "--max-batch", 32);
        double baseMs = Double(args, "--base-ms", 8);
        double perImageMs = Double(args, "--per-image-ms", 1);
        double queueDelayMs = Double(args, "--queue-delay-ms", 2);
        double spillBatches = Double(args, "--spill-batches", new InferenceOptions().SaturatedQueueBatches);
        double phaseSeconds = Double(args, "--phase-seconds", full ? 30 : 10);
        double overloadSeconds = Double(args, "--overload-seconds", 60);
        string modelsPath = CommandLine.Option(args, "--models") ?? Path.Combine(AppContext.BaseDirectory, "models");
        string outDir = CommandLine.Option(args, "--out") ?? Path.Combine(PhotoMix.RepositoryRoot(), "bench-results");

        var simulated = new SimulatedDeviceOptions { BaseMs = baseMs, PerImageMs = perImageMs };
        double capacity = silos * devices * simulated.Capacity(maxBatch);
        // A bus consumer's concurrency limit per silo: enough to keep every device's queue past the intake threshold.
        int consumers = Int(args, "--consumers", devices * maxBatch * 6);
        Say($"{silos} silos x {devices} sim devices, batch {maxBatch} in {baseMs} + {perImageMs}*n ms: capacity {capacity:0} images/s; {consumers} consumers per silo");

        using var batches = new BatchSizes();
        await using var cluster = await StartClusterAsync(silos, devices, maxBatch, queueDelayMs, spillBatches, simulated, modelsPath);
        string modelId = cluster.Silos[0].ServiceProvider.GetRequiredService<ModelSessions>().DefaultModel.Id;
        int inputLength = cluster.Silos[0].ServiceProvider.GetRequiredService<ModelSessions>().DefaultModel.Input.ElementCount;
        float[][] tensors = [.. Enumerable.Range(0, 8).Select(seed =>
        {
            var random = new Random(seed);
            var tensor = new float[inputLength];
            for (int i = 0; i < tensor.Length; i++)
            {
                tensor[i] = (float)random.NextDouble();
            }

            return tensor;
        })];
        var load = new Load(cluster, modelId, tensors, consumers);

        Say("warming up: every device activates and warms every batch size");
        await load.RunAsync(capacity * 0.5, 3, null);

        batches.Reset();
        Say($"saturation: {1.25 * capacity:0}/s offered for {phaseSeconds} s");
        PhaseResult saturation = await load.RunAsync(capacity * 1.25, phaseSeconds, null);
        double meanBatch = batches.Mean;
        double utilisation = saturation.Throughput / capacity;

        var latency = new List<(double Fraction, PhaseResult Result)>();
        foreach (double fraction in new[] { 0.5, 0.8, 0.95 })
        {
            Say($"{fraction:P0} of capacity: {fraction * capacity:0}/s for {phaseSeconds} s");
            latency.Add((fraction, await load.RunAsync(capacity * fraction, phaseSeconds, null)));
        }

        Say($"overload: {2 * capacity:0}/s offered for {overloadSeconds} s");
        GC.Collect();
        long rssBefore = ProcessTree.Read().HostBytes;
        long peak = rssBefore;
        long waitsBefore = cluster.Silos.Sum(s => s.ServiceProvider.GetRequiredService<IntakeGate>().Waits);
        PhaseResult overload = await load.RunAsync(capacity * 2, overloadSeconds, () => peak = Math.Max(peak, ProcessTree.Read().HostBytes));
        long intakeWaits = cluster.Silos.Sum(s => s.ServiceProvider.GetRequiredService<IntakeGate>().Waits) - waitsBefore;

        Console.WriteLine();
        Console.WriteLine($"| {silos} silos x {devices} simulated GPUs | offered/s | achieved/s | of capacity | p50 ms | p99 ms | failed | served by another silo | gen2 GCs | CPU µs/image |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        Console.WriteLine(Row("saturation (1.25x)", saturation, capacity));
        foreach ((double fraction, PhaseResult result) in latency)
        {
            Console.WriteLine(Row($"{fraction:P0} of capacity", result, capacity));
        }

        Console.WriteLine(Row("overload (2x)", overload, capacity));
        Console.WriteLine();
        Console.WriteLine($"capacity {capacity:0} images/s = {silos * devices} devices x {maxBatch} / ({baseMs} + {perImageMs} x {maxBatch}) ms; mean batch at saturation {meanBatch:0.0} (max {maxBatch})");
        Console.WriteLine($"overload: resident memory {Mib(rssBefore):0} MiB before, peak {Mib(peak):0} MiB over {overloadSeconds} s; {overload.Backlog} arrivals still waiting in the broker at the end; intake held {intakeWaits} times");

        double p99At80 = latency.Single(l => l.Fraction == 0.8).Result.P99Ms;
        var summary = new Dictionary<string, double>
        {
            ["sim_utilisation"] = Math.Round(utilisation, 3),
            ["p99_ms_at_80"] = Math.Round(p99At80, 1),
            ["mean_batch"] = Math.Round(meanBatch, 1),
            ["peak_rss_mib_overload"] = Math.Round(Mib(peak)),
            ["capacity_per_s"] = Math.Round(capacity),
            ["achieved_per_s"] = Math.Round(saturation.Throughput),
            ["p50_ms_at_50"] = Math.Round(latency[0].Result.P50Ms, 1),
            ["p99_ms_at_50"] = Math.Round(latency[0].Result.P99Ms, 1),
            ["p50_ms_at_80"] = Math.Round(latency[1].Result.P50Ms, 1),
            ["p50_ms_at_95"] = Math.Round(latency[2].Result.P50Ms, 1),
            ["p99_ms_at_95"] = Math.Round(latency[2].Result.P99Ms, 1),
            ["rss_mib_before_overload"] = Math.Round(Mib(rssBefore)),
        };
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "bench-devices.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine(string.Join(' ', summary.Select(p => $"{p.Key}={p.Value.ToString(CultureInfo.InvariantCulture)}")));
        return saturation.Failed + latency.Sum(l => l.Result.Failed) == 0 ? 0 : 1;
    }

    private static string Row(string name, PhaseResult r, double capacity) =>
        FormattableString.Invariant($"| {name} | {r.Offered:0} | {r.Throughput:0} | {r.Throughput / capacity:0.000} | {r.P50Ms:0.0} | {r.P99Ms:0.0} | {r.Failed} | {r.SpilledShare:P1} | {r.Gen2Collections} | {r.CpuUsPerImage:0} |");

    private static double Mib(long bytes) => bytes / 1048576.0;

    private static void Say(string message) => Console.Error.WriteLine($"[devices] {message}");

    private static int Int(string[] args, string name, int fallback) =>
        CommandLine.Option(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static double Double(string[] args, string name, double fallback) =>
        CommandLine.Option(args, name) is { } value ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static async Task<InProcessTestCluster> StartClusterAsync(int silos, int devices, int maxBatch, double queueDelayMs, double spillBatches, SimulatedDeviceOptions simulated, string modelsPath)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) =>
        {
            var settings = new Dictionary<string, string?>
            {
                ["ArtGrid:Inference:ModelsPath"] = modelsPath,
                ["ArtGrid:Inference:MaxBatchSize"] = maxBatch.ToString(CultureInfo.InvariantCulture),
                ["ArtGrid:Inference:MaxQueueDelayMs"] = queueDelayMs.ToString(CultureInfo.InvariantCulture),
                ["ArtGrid:Inference:QueueCapacity"] = (maxBatch * 16).ToString(CultureInfo.InvariantCulture),
                ["ArtGrid:Inference:SaturatedQueueBatches"] = spillBatches.ToString(CultureInfo.InvariantCulture),
                ["ArtGrid:Inference:Simulated:BaseMs"] = simulated.BaseMs.ToString(CultureInfo.InvariantCulture),
                ["ArtGrid:Inference:Simulated:PerImageMs"] = simulated.PerImageMs.ToString(CultureInfo.InvariantCulture),
            };
            for (int d = 0; d < devices; d++)
            {
                settings[$"ArtGrid:Inference:Devices:{d}"] = $"sim:{d}";
            }

            host.Configuration.AddInMemoryCollection(settings);
            host.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddArtGridInMemory();
        });
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        int expected = (silos - 1) * devices;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (cluster.Silos.Any(s => s.ServiceProvider.GetRequiredService<ClusterDevices>().Remote.Count != expected))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The silos did not learn each other's devices within 60 s.");
            }

            await Task.Delay(100);
        }

        return cluster;
    }

    private sealed record PhaseResult(double Offered, double Throughput, double P50Ms, double P99Ms, int Failed, long Backlog, double SpilledShare, int Gen2Collections, double CpuUsPerImage);

    /// <summary>Open-loop arrivals per silo into a broker queue; a bounded set of consumers per silo takes them through the intake gate.</summary>
    private sealed class Load(InProcessTestCluster cluster, string modelId, float[][] tensors, int consumersPerSilo)
    {
        public async Task<PhaseResult> RunAsync(double ratePerSecond, double seconds, Action? sample)
        {
            // The first second of every phase is left out: queues settle from the previous rate.
            double settle = Math.Min(1, seconds / 4);
            var phase = new Phase((long)(ratePerSecond * seconds * 1.1) + 1024, Stopwatch.GetTimestamp() + (long)(settle * Stopwatch.Frequency));
            using var stop = new CancellationTokenSource();
            int silos = cluster.Silos.Count;
            var tasks = new List<Task>();
            int gen2 = GC.CollectionCount(2);
            TimeSpan cpuStart = TimeSpan.Zero, cpuEnd = TimeSpan.Zero;
            long completedAtStart = 0;
            bool settled = false;
            var brokers = new List<Broker>();
            foreach (InProcessSiloHandle silo in cluster.Silos)
            {
                var broker = new Broker();
                brokers.Add(broker);
                var dispatcher = silo.ServiceProvider.GetRequiredService<InferenceDispatcher>();
                var gate = silo.ServiceProvider.GetRequiredService<IntakeGate>();
                tasks.Add(Task.Run(() => ArriveAsync(broker, ratePerSecond / silos, stop.Token)));
                for (int c = 0; c < consumersPerSilo; c++)
                {
                    int seed = c;
                    string name = silo.Name;
                    tasks.Add(Task.Run(() => ConsumeAsync(name, broker, gate, dispatcher, phase, seed, stop.Token)));
                }
            }

            long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < end)
            {
                sample?.Invoke();
                if (!settled && Stopwatch.GetTimestamp() >= phase.MeasureFrom)
                {
                    (settled, cpuStart, completedAtStart) = (true, Environment.CpuUsage.TotalTime, Interlocked.Read(ref phase.Completed));
                }

                await Task.Delay(100);
            }

            cpuEnd = Environment.CpuUsage.TotalTime;
            Say($"  threads {ThreadPool.ThreadCount}, work items {ThreadPool.CompletedWorkItemCount}, lock contention {Monitor.LockContentionCount}, pending work {ThreadPool.PendingWorkItemCount}");

            double measured = seconds - settle;
            long completed = Interlocked.Read(ref phase.Completed);
            double[] latencies = phase.Latencies();
            long backlog = brokers.Sum(b => b.Waiting);
            await stop.CancelAsync();
            await Task.WhenAll(tasks.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            // Let what was admitted drain before the next phase.
            await Task.Delay(500);
            Array.Sort(latencies);
            return new PhaseResult(
                ratePerSecond,
                completed / measured,
                latencies.Length == 0 ? double.NaN : Stats.Percentile(latencies, 50),
                latencies.Length == 0 ? double.NaN : Stats.Percentile(latencies, 99),
                phase.Failed,
                backlog,
                (double)Interlocked.Read(ref phase.Spilled) / Math.Max(1, completed),
                GC.CollectionCount(2) - gen2,
                (cpuEnd - cpuStart).TotalMicroseconds / Math.Max(1, completed - completedAtStart));
        }

        private static async Task ArriveAsync(Broker broker, double rate, CancellationToken stop)
        {
            var random = new Random();
            double next = Stopwatch.GetTimestamp();
            while (!stop.IsCancellationRequested)
            {
                long now = Stopwatch.GetTimestamp();
                int arrived = 0;
                while (next <= now)
                {
                    broker.Arrivals.Enqueue((long)next);
                    next += -Math.Log(1 - random.NextDouble()) / rate * Stopwatch.Frequency;
                    arrived++;
                }

                if (arrived > 0)
                {
                    Interlocked.Add(ref broker.Waiting, arrived);
                    broker.Signal.Release(arrived);
                }

                await Task.Delay(1, CancellationToken.None);
            }
        }

        private async Task ConsumeAsync(string silo, Broker broker, IntakeGate gate, InferenceDispatcher dispatcher, Phase phase, int seed, CancellationToken stop)
        {
            float[] tensor = tensors[seed % tensors.Length];
            try
            {
                while (true)
                {
                    await broker.Signal.WaitAsync(stop);
                    await gate.WaitAsync(stop);
                    broker.Arrivals.TryDequeue(out long arrivedAt);
                    Interlocked.Decrement(ref broker.Waiting);
                    try
                    {
                        InferenceResult result = await dispatcher.InferAsync(modelId, tensor, CancellationToken.None);
                        phase.Done(arrivedAt, !result.Device.StartsWith(silo + "/", StringComparison.Ordinal));
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        Interlocked.Increment(ref phase.Failed);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private sealed class Broker
    {
        public ConcurrentQueue<long> Arrivals { get; } = new();

        public SemaphoreSlim Signal { get; } = new(0);

        public long Waiting;
    }

    private sealed class Phase(long capacity, long measureFrom)
    {
        public long MeasureFrom => measureFrom;

        private readonly double[] _latencies = new double[capacity];
        private long _count;
        public long Completed;
        public long Spilled;
        public int Failed;

        // Throughput counts what completes in the window, whenever it arrived; latency is of what arrived in it.
        public void Done(long arrivedAt, bool spilled)
        {
            long now = Stopwatch.GetTimestamp();
            if (now < measureFrom)
            {
                return;
            }

            Interlocked.Increment(ref Completed);
            if (spilled)
            {
                Interlocked.Increment(ref Spilled);
            }

            if (arrivedAt < measureFrom)
            {
                return;
            }

            long slot = Interlocked.Increment(ref _count) - 1;
            if (slot < _latencies.Length)
            {
                _latencies[slot] = Stopwatch.GetElapsedTime(arrivedAt, now).TotalMilliseconds;
            }
        }

        public double[] Latencies() => _latencies[..(int)Math.Min(Interlocked.Read(ref _count), _latencies.Length)];
    }

    /// <summary>The batch sizes every device ran, from the "artgrid.inference.batch.size" histogram of all silos in this process.</summary>
    private sealed class BatchSizes : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _batches;
        private long _images;

        public BatchSizes()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ArtGridInstruments.MeterName && instrument.Name == "artgrid.inference.batch.size")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<int>((_, size, _, _) =>
            {
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _images, size);
            });
            _listener.Start();
        }

        public double Mean => (double)Interlocked.Read(ref _images) / Math.Max(1, Interlocked.Read(ref _batches));

        public void Reset()
        {
            Interlocked.Exchange(ref _batches, 0);
            Interlocked.Exchange(ref _images, 0);
        }

        public void Dispose() => _listener.Dispose();
    }
}
