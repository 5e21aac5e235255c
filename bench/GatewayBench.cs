using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Bench;

/// <summary>
/// <c>artgrid-bench gateway</c>: a bounded loopback load test of the moderation API. It starts its own silos and gateway
/// as processes (from their build outputs, on the Redis and RabbitMQ it is pointed at, with a private cluster id, service
/// id, queue and API key) and drives them closed-loop with C concurrent callers: uncached images through
/// <c>POST /v1/score</c>, the same images again under new job ids (the Redis result cache answers), the same cached jobs
/// straight to the bus as <c>ScoreImages</c> requests with the bytes claim-checked in Redis (as a producer would), and
/// other uncached images straight to the bus. Each round takes a slice of the images through all four, the order of
/// gateway and bus alternating, so that a shared machine's state weighs on both sides; the gateway/bus ratios are paired
/// within a round. Every answer is checked (200 and "completed" with a scored image; <c>ImagesScored</c> with a scored
/// image), and a failure is counted and printed, never measured as a success.
/// </summary>
internal static class GatewayBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        GatewayBenchSettings settings;
        try
        {
            settings = GatewayBenchSettings.Parse(args);
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"artgrid-bench gateway: {ex.Message} (see artgrid-bench without arguments)");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            Progress.Say($"{context.Signal}: stopping the silos and the gateway");
            stop.Cancel();
        }

        // Ctrl-C and SIGTERM end the run through the same clean-up as a failure; should the process go away regardless,
        // its silos and gateway go with it.
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();

        await using var run = new GatewayLoadRun(settings);
        try
        {
            return await run.RunAsync(stop.Token);
        }
        catch (SetupException ex)
        {
            Console.Error.WriteLine($"artgrid-bench gateway: {ex.Message}");
            return 3;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("artgrid-bench gateway: stopped before the end; nothing measured");
            return 130;
        }
    }
}

/// <summary>The options of <c>artgrid-bench gateway</c>.</summary>
internal sealed record GatewayBenchSettings(string Redis, Uri Amqp, int Silos, int Images, int Concurrency, int Rounds, string Out, double MaxWaitSeconds)
{
    public static GatewayBenchSettings Parse(string[] args)
    {
        (string redis, Uri amqp) = CommandLine.Servers(args);
        var settings = new GatewayBenchSettings(
            redis,
            amqp,
            CommandLine.PositiveInt(args, "--silos", 2),
            CommandLine.PositiveInt(args, "--images", 200),
            CommandLine.PositiveInt(args, "--concurrency", 8),
            CommandLine.PositiveInt(args, "--rounds", 4),
            CommandLine.Option(args, "--out") ?? Path.Combine(PhotoMix.RepositoryRoot(), "bench-results"),
            CommandLine.PositiveInt(args, "--max-wait", 120));
        return settings.Images < settings.Rounds
            ? throw new FormatException($"--images ({settings.Images}) must be at least --rounds ({settings.Rounds}): each round takes a slice of them")
            : settings;
    }
}

/// <summary>One job of the load: its id, its one image and, for the gateway, its JSON body ready to send.</summary>
internal sealed record LoadJob(string JobId, string Name, byte[] Bytes, JobMetadata Metadata)
{
    public byte[] Body { get; } = JsonSerializer.SerializeToUtf8Bytes(new
    {
        jobId = JobId,
        name = Name,
        base64 = Convert.ToBase64String(Bytes),
        metadata = new { author = Metadata.Author, source = Metadata.Source },
    });
}

/// <summary>One request: how long it took from send to checked answer, and what was wrong with it (null: nothing).</summary>
internal sealed record LoadSample(string Phase, int Round, string JobId, double Milliseconds, string? Error, bool Cached);

/// <summary>One slice of one phase, run closed-loop: its wall time and every request of it.</summary>
internal sealed record PhaseRun(string Phase, int Round, double Seconds, IReadOnlyList<LoadSample> Samples)
{
    public int Ok => Samples.Count(s => s.Error is null);

    public double RequestsPerSecond => Ok / Seconds;
}

/// <summary>One run of the gateway load test: the processes it started, its clients, and what it measured.</summary>
internal sealed class GatewayLoadRun(GatewayBenchSettings settings) : IAsyncDisposable
{
    public const string GatewayUncached = "gateway-uncached";
    public const string GatewayCached = "gateway-cached";
    public const string BusCached = "bus-cached";
    public const string BusUncached = "bus-uncached";

    private readonly BenchCluster _cluster = new("b" + Guid.NewGuid().ToString("N")[..10], settings.Redis, settings.Amqp);
    private readonly List<PhaseRun> _runs = [];
    private RedisConnection? _redis;
    private IBusControl? _bus;
    private IMessageDataRepository? _messageData;
    private IRequestClient<ScoreImages>? _client;
    private double _meanKib;

    private string RunId => _cluster.RunId;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        (string siloDll, string gatewayDll) = BenchCluster.BuildOutputs();
        await BenchCluster.CheckServersAsync(settings.Redis, settings.Amqp);
        int n = settings.Images;
        int warm = Math.Max(4, 2 * settings.Concurrency);
        Progress.Say($"run {RunId}: {settings.Silos} silos and a gateway on {settings.Redis} and {settings.Amqp.Host}:{settings.Amqp.Port}; {2 * (n + warm)} new images");
        IReadOnlyList<(string Name, byte[] Bytes)> gatewayImages = BenchImages.Distinct(RunId, "g", n);
        IReadOnlyList<(string Name, byte[] Bytes)> busImages = BenchImages.Distinct(RunId, "b", n);
        IReadOnlyList<(string Name, byte[] Bytes)> warmGateway = BenchImages.Distinct(RunId, "wg", warm);
        IReadOnlyList<(string Name, byte[] Bytes)> warmBus = BenchImages.Distinct(RunId, "wb", warm);
        _meanKib = gatewayImages.Concat(busImages).Average(i => i.Bytes.Length) / 1024.0;

        await StartClusterAsync(siloDll, gatewayDll, cancellationToken);

        // Warm-up, not measured: JIT, connections, the inference sessions and grains on every silo, both paths.
        Progress.Say($"warm-up: {warm} images each way, uncached then cached");
        List<PhaseRun> warmUp =
        [
            await RunPhaseAsync("warm-gateway-uncached", -1, Jobs("wgu", warmGateway), GatewayAsync, cancellationToken),
            await RunPhaseAsync("warm-bus-uncached", -1, Jobs("wbu", warmBus), BusAsync, cancellationToken),
            await RunPhaseAsync("warm-gateway-cached", -1, Jobs("wgc", warmGateway), GatewayAsync, cancellationToken),
            await RunPhaseAsync("warm-bus-cached", -1, Jobs("wbc", warmGateway), BusAsync, cancellationToken),
        ];

        for (int round = 0; round < settings.Rounds; round++)
        {
            int from = round * n / settings.Rounds;
            int to = (round + 1) * n / settings.Rounds;
            var gatewaySlice = gatewayImages.Take(to).Skip(from).ToList();
            var busSlice = busImages.Take(to).Skip(from).ToList();

            // The uncached gateway slice is what the cached phases then send again, under new job ids, both ways.
            (string Phase, Func<Task<PhaseRun>> Run)[] phases =
            [
                (GatewayUncached, () => RunPhaseAsync(GatewayUncached, round, Jobs($"gu{round}", gatewaySlice, from), GatewayAsync, cancellationToken)),
                (BusUncached, () => RunPhaseAsync(BusUncached, round, Jobs($"bu{round}", busSlice, from), BusAsync, cancellationToken)),
                (GatewayCached, () => RunPhaseAsync(GatewayCached, round, Jobs($"gc{round}", gatewaySlice, from), GatewayAsync, cancellationToken)),
                (BusCached, () => RunPhaseAsync(BusCached, round, Jobs($"bc{round}", gatewaySlice, from), BusAsync, cancellationToken)),
            ];

            // Even rounds: gateway first; odd rounds: bus first (uncached pair, then cached pair).
            int[] order = round % 2 == 0 ? [0, 1, 2, 3] : [1, 0, 3, 2];
            foreach (int p in order)
            {
                PhaseRun run = await phases[p].Run();
                _runs.Add(run);
                Progress.Say($"round {round + 1}/{settings.Rounds} {run.Phase,-16} {run.Ok}/{run.Samples.Count} ok in {run.Seconds:0.0} s: {run.RequestsPerSecond:0.0} req/s, p50 {Percentile(run.Samples, 50):0} ms");
            }
        }

        return Report(warmUp);
    }

    private async Task StartClusterAsync(string siloDll, string gatewayDll, CancellationToken cancellationToken)
    {
        await _cluster.StartSilosAsync(siloDll, settings.Silos, cancellationToken);
        // A job is a failure if not done within the wait.
        await _cluster.StartGatewayAsync(
            gatewayDll,
            $"ag_bench_{Guid.NewGuid():N}",
            "bench",
            ["score", "read"],
            new Dictionary<string, string> { ["ArtGrid__Gateway__MaxWaitSeconds"] = ChildProcess.Text((int)settings.MaxWaitSeconds) },
            "/health/live",
            TimeSpan.FromSeconds(settings.MaxWaitSeconds + 60),
            cancellationToken);

        _redis = new RedisConnection(settings.Redis);
        var messageData = new RedisMessageDataRepository(_redis, TimeSpan.FromHours(1));
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.UseArtGrid(settings.Amqp, messageData));
        await _bus.StartAsync(cancellationToken);
        _messageData = messageData;
        _client = _bus.CreateRequestClient<ScoreImages>(await ScoreQueue.DeclareAsync(settings.Amqp, _cluster.QueueName, cancellationToken), RequestTimeout.After(s: (int)settings.MaxWaitSeconds));
        Progress.Say("cluster ready");
    }

    private List<LoadJob> Jobs(string prefix, IEnumerable<(string Name, byte[] Bytes)> images, int firstIndex = 0) =>
        [.. images.Select((image, i) => new LoadJob(
            $"{RunId}-{prefix}-{firstIndex + i}",
            image.Name,
            image.Bytes,
            // A handful of authors, so that author grains (Redis storage) are part of every job, as in production.
            new JobMetadata(Author: $"bench-author-{(firstIndex + i) % 4}", Source: "artgrid-bench")))];

    /// <summary>The jobs through C callers, each sending its next job as soon as its last one is answered.</summary>
    private async Task<PhaseRun> RunPhaseAsync(string phase, int round, IReadOnlyList<LoadJob> jobs, Func<LoadJob, CancellationToken, Task<(string? Error, bool Cached)>> send, CancellationToken cancellationToken)
    {
        var samples = new LoadSample[jobs.Count];
        int next = -1;
        long start = Stopwatch.GetTimestamp();
        int callers = Math.Min(jobs.Count, settings.Concurrency);
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(
            async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < jobs.Count)
                {
                    long sent = Stopwatch.GetTimestamp();
                    (string? error, bool cached) = await SendCheckedAsync(jobs[i], send, cancellationToken);
                    samples[i] = new LoadSample(phase, round, jobs[i].JobId, Stopwatch.GetElapsedTime(sent).TotalMilliseconds, error, cached);
                }
            },
            cancellationToken)));
        return new PhaseRun(phase, round, Stopwatch.GetElapsedTime(start).TotalSeconds, samples);
    }

    private static async Task<(string? Error, bool Cached)> SendCheckedAsync(LoadJob job, Func<LoadJob, CancellationToken, Task<(string? Error, bool Cached)>> send, CancellationToken cancellationToken)
    {
        try
        {
            return await send(job, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return ($"{ex.GetType().Name}: {ex.Message}", false);
        }
    }

    // POST /v1/score with the prepared JSON body: a failure unless 200, "completed", this job, one image scored.
    private async Task<(string? Error, bool Cached)> GatewayAsync(LoadJob job, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(job.Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await _cluster.Http.PostAsync("/v1/score", content, cancellationToken);
        string text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return ($"HTTP {(int)response.StatusCode}: {Shorten(text)}", false);
        }

        using JsonDocument document = JsonDocument.Parse(text);
        JsonElement body = document.RootElement;
        string? status = body.TryGetProperty("status", out JsonElement s) ? s.GetString() : null;
        if (status != JobStatus.Completed || !body.TryGetProperty("jobId", out JsonElement id) || id.GetString() != job.JobId)
        {
            return ($"200 but not this job completed: {Shorten(text)}", false);
        }

        if (!body.TryGetProperty("verdict", out JsonElement verdict) || verdict.ValueKind != JsonValueKind.Object
            || !verdict.TryGetProperty("images", out JsonElement images) || images.GetArrayLength() != 1)
        {
            return ($"completed without one scored image: {Shorten(text)}", false);
        }

        JsonElement image = images[0];
        return image.TryGetProperty("error", out JsonElement error) && error.ValueKind != JsonValueKind.Null
            ? ($"image error {error}", false)
            : image.TryGetProperty("label", out JsonElement label) && label.ValueKind == JsonValueKind.String
                ? (null, image.TryGetProperty("cached", out JsonElement cached) && cached.ValueKind == JsonValueKind.True)
                : ($"image without a label: {Shorten(image.ToString())}", false);
    }

    // ScoreImages as a request, the bytes claim-checked in Redis: a failure unless ImagesScored for this job, one image scored.
    private async Task<(string? Error, bool Cached)> BusAsync(LoadJob job, CancellationToken cancellationToken)
    {
        var command = new ScoreImages
        {
            JobId = job.JobId,
            Images = [new ImageReference { Name = job.Name, Data = await ImageData.ClaimCheckAsync(_messageData!, job.Bytes, cancellationToken) }],
            Metadata = job.Metadata,
            SubmittedAt = DateTimeOffset.UtcNow,
        };
        Response<ImagesScored, ScoreImagesRejected> response = await _client!.GetResponse<ImagesScored, ScoreImagesRejected>(command, cancellationToken);
        if (response.Message is ScoreImagesRejected rejected)
        {
            return ($"rejected {rejected.Code}: {rejected.Reason}", false);
        }

        if (response.Message is not ImagesScored scored || scored.JobId != job.JobId || scored.Verdict.Images.Count != 1)
        {
            return ("the answer is not this job's verdict of one image", false);
        }

        ImageScore image = scored.Verdict.Images[0];
        return image.Error is { } error ? ($"image error {error.Code}: {error.Message}", false)
            : image.Label is null ? ("image without a label", false)
            : (null, image.Cached);
    }

    private int Report(IReadOnlyList<PhaseRun> warmUp)
    {
        Console.WriteLine($"Gateway load: {settings.Images} images a phase in {settings.Rounds} rounds, {settings.Concurrency} concurrent callers, {settings.Silos} silos (1 ONNX Runtime thread each), run {RunId}");
        Console.WriteLine($"Images: samples/**/*.jpg at their own size, each re-encoded as JPEG with a mark of its own ({_meanKib:0} KiB on average; base64 in the gateway's JSON).");
        Console.WriteLine($"Loopback, closed loop; a phase's req/s is its answered-and-checked requests over its wall time. Warm-up: {warmUp.Sum(r => r.Samples.Count)} requests, {warmUp.Sum(r => r.Samples.Count - r.Ok)} failed (not counted).");
        (string Phase, string Title)[] phases =
        [
            (GatewayUncached, "(a) Gateway, uncached: POST /v1/score, new images"),
            (GatewayCached, "(b) Gateway, cached: POST /v1/score, the same images under new job ids"),
            (BusCached, "(c) Bus, cached: ScoreImages request/response, the same images under new job ids"),
            (BusUncached, "(d) Bus, uncached: ScoreImages request/response, other new images"),
        ];
        foreach ((string phase, string title) in phases)
        {
            var table = new Table("round", "requests", "ok", "cache hits", "seconds", "req/s", "p50 ms", "p99 ms");
            foreach (PhaseRun run in Of(phase))
            {
                table.Row(run.Round + 1, run.Samples.Count, run.Ok, run.Samples.Count(s => s.Cached), run.Seconds, run.RequestsPerSecond, Percentile(run.Samples, 50), Percentile(run.Samples, 99));
            }

            List<LoadSample> all = [.. Of(phase).SelectMany(r => r.Samples)];
            table.Row("all", all.Count, all.Count(s => s.Error is null), all.Count(s => s.Cached), Of(phase).Sum(r => r.Seconds), Rps(phase), Percentile(all, 50), Percentile(all, 99));
            table.Print(title);
        }

        Spread uncachedRatio = Spread.OfRatios([.. Of(GatewayUncached).Select(r => r.RequestsPerSecond)], [.. Of(BusUncached).Select(r => r.RequestsPerSecond)]);
        Spread cachedRatio = Spread.OfRatios([.. Of(GatewayCached).Select(r => r.RequestsPerSecond)], [.. Of(BusCached).Select(r => r.RequestsPerSecond)]);
        new Table("images", "gateway req/s", "bus req/s", "gateway/bus (median of rounds [range])", "gateway p50/p99 ms", "bus p50/p99 ms")
            .Row("uncached", Rps(GatewayUncached), Rps(BusUncached), uncachedRatio, Latency(GatewayUncached), Latency(BusUncached))
            .Row("cached", Rps(GatewayCached), Rps(BusCached), cachedRatio, Latency(GatewayCached), Latency(BusCached))
            .Print("Gateway against the same jobs sent straight to the bus");

        List<LoadSample> failures = [.. _runs.Concat(warmUp).SelectMany(r => r.Samples).Where(s => s.Error is not null)];
        int measuredFailures = _runs.Sum(r => r.Samples.Count - r.Ok);
        if (failures.Count > 0)
        {
            var table = new Table("phase", "round", "job", "ms", "error");
            foreach (LoadSample failure in failures.Take(50))
            {
                table.Row(failure.Phase, failure.Round < 0 ? "warm-up" : failure.Round + 1, failure.JobId, failure.Milliseconds, failure.Error!);
            }

            table.Print($"Failures: {failures.Count}{(failures.Count > 50 ? " (the first 50; all in the CSV)" : "")}");
        }

        int misses = Of(GatewayCached).Concat(Of(BusCached)).Sum(r => r.Samples.Count(s => s.Error is null && !s.Cached));
        if (misses > 0)
        {
            Console.WriteLine($"Note: {misses} answers of the cached phases did not come from the result cache.");
        }

        WriteRaw(warmUp, uncachedRatio, cachedRatio, measuredFailures + warmUp.Sum(r => r.Samples.Count - r.Ok));
        int failed = measuredFailures + warmUp.Sum(r => r.Samples.Count - r.Ok);
        List<LoadSample> gatewayCached = [.. Of(GatewayCached).SelectMany(r => r.Samples)];
        List<LoadSample> gatewayUncached = [.. Of(GatewayUncached).SelectMany(r => r.Samples)];
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"gateway_rps_uncached={Rps(GatewayUncached):0.00} gateway_rps_cached={Rps(GatewayCached):0.00} bus_rps_uncached={Rps(BusUncached):0.00} bus_rps_cached={Rps(BusCached):0.00} " +
            $"gateway_vs_bus_uncached={uncachedRatio.Median:0.000} gateway_vs_bus_cached={cachedRatio.Median:0.000} " +
            $"p50_ms_cached={Percentile(gatewayCached, 50):0.0} p99_ms_cached={Percentile(gatewayCached, 99):0.0} p50_ms_uncached={Percentile(gatewayUncached, 50):0.0} p99_ms_uncached={Percentile(gatewayUncached, 99):0.0} failures={failed}"));
        return failed == 0 ? 0 : 1;
    }

    private IEnumerable<PhaseRun> Of(string phase) => _runs.Where(r => r.Phase == phase);

    /// <summary>Every checked answer of the phase over the sum of its slices' wall times.</summary>
    private double Rps(string phase) => Of(phase).Sum(r => r.Ok) / Of(phase).Sum(r => r.Seconds);

    private string Latency(string phase)
    {
        List<LoadSample> all = [.. Of(phase).SelectMany(r => r.Samples)];
        return string.Create(CultureInfo.InvariantCulture, $"{Percentile(all, 50):0} / {Percentile(all, 99):0}");
    }

    /// <summary>Latency percentile of the answered-and-checked requests (NaN when none).</summary>
    private static double Percentile(IEnumerable<LoadSample> samples, double percent) =>
        Stats.Percentile(samples.Where(s => s.Error is null).Select(s => s.Milliseconds), percent);

    private void WriteRaw(IReadOnlyList<PhaseRun> warmUp, Spread uncachedRatio, Spread cachedRatio, int failures)
    {
        Directory.CreateDirectory(settings.Out);
        string csv = Path.Combine(settings.Out, "gateway-load-requests.csv");
        using (var writer = new StreamWriter(csv))
        {
            writer.WriteLine("run,phase,round,job_id,ms,ok,cached,error");
            foreach (LoadSample s in warmUp.Concat(_runs).SelectMany(r => r.Samples))
            {
                string error = s.Error is null ? "" : "\"" + s.Error.Replace("\"", "\"\"", StringComparison.Ordinal).ReplaceLineEndings(" ") + "\"";
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{RunId},{s.Phase},{s.Round + 1},{s.JobId},{s.Milliseconds:0.###},{(s.Error is null ? 1 : 0)},{(s.Cached ? 1 : 0)},{error}"));
            }
        }

        string json = Path.Combine(settings.Out, "gateway-load.json");
        File.WriteAllText(json, JsonSerializer.Serialize(
            new
            {
                run = RunId,
                at = DateTimeOffset.UtcNow,
                settings = new { settings.Silos, settings.Images, settings.Concurrency, settings.Rounds, settings.MaxWaitSeconds, Environment.ProcessorCount },
                failures,
                gatewayVsBusUncached = new { uncachedRatio.Median, uncachedRatio.Min, uncachedRatio.Max },
                gatewayVsBusCached = new { cachedRatio.Median, cachedRatio.Min, cachedRatio.Max },
                rounds = _runs.Select(r => new
                {
                    r.Phase,
                    Round = r.Round + 1,
                    Requests = r.Samples.Count,
                    r.Ok,
                    CacheHits = r.Samples.Count(s => s.Cached),
                    r.Seconds,
                    r.RequestsPerSecond,
                    P50Ms = Percentile(r.Samples, 50),
                    P99Ms = Percentile(r.Samples, 99),
                }),
            },
            new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Progress.Say($"raw numbers: {csv}, {json}");
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    /// <summary>Stops the bench's bus, the gateway and the silos, and deletes this run's queues; on success, failure and Ctrl-C alike.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await BenchCluster.Try("stop the bench's bus", () => _bus.StopAsync(TimeSpan.FromSeconds(30)));
        }

        await BenchCluster.Try("keep the servers' logs", () =>
        {
            string logs = Path.Combine(settings.Out, "gateway-load-logs");
            Directory.CreateDirectory(logs);
            foreach (ChildProcess child in _cluster.Silos.Append(_cluster.Gateway).OfType<ChildProcess>())
            {
                File.WriteAllLines(Path.Combine(logs, child.Name + ".log"), child.Log);
            }

            return Task.CompletedTask;
        });
        await _cluster.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        Progress.Say("silos and gateway stopped");
    }
}
