using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using StackExchange.Redis;

namespace ArtGrid.Bench;

/// <summary>
/// The cached part of <c>artgrid-bench queue</c>: what a job whose images are already scored costs on the whole cluster
/// path, against what the bus itself costs. In one run, on the same broker, in paired rounds whose order alternates:
/// (a) raw MassTransit request/response round trips (a trivial consumer on a private queue in this process), and (b)
/// cached jobs through the silos: <see cref="ScoreImages"/> requests over images the cluster has scored, built as
/// <c>artgrid submit --wait</c> builds them, closed loop with <see cref="Concurrency"/> callers; (c) raw round trips
/// carrying the cached job's image; and (d) the cached jobs again with each image named by its SHA-256 alone, as
/// <c>artgrid submit --wait --by-hash</c> sends a re-upload (<see cref="ImageReference.Sha256"/>). Beside the rates, where
/// a cached job's cost goes: Redis commands per job by command (INFO commandstats before and after each phase) and CPU
/// milliseconds per job of the silos, Redis, RabbitMQ and this process. And the contract's own floor: the by-hash jobs
/// sent to a trivial consumer in this process that answers each with a verdict the silos gave (no Redis, no cache, no
/// record), once publishing the <see cref="ImagesScored"/> event as a silo does (<c>floor</c>) and once replying alone
/// (<c>floor-reply</c>): what the job's messages cost on this bus whatever a silo does.
/// </summary>
internal static class CachedJobsBench
{
    public const int Concurrency = 16;

    private const string Raw = "raw";
    private const string Cached = "cached";
    private const string RawImage = "raw+image";
    private const string ByHash = "by-hash";
    private const string Floor = "floor";
    private const string FloorReply = "floor-reply";

    public static Task<IReadOnlyDictionary<string, double>> RunAsync(QueueBenchContext context, CancellationToken cancellationToken) =>
        RunAsync(context, claimCheckAll: false, cancellationToken);

    /// <param name="claimCheckAll">Every image claim-checked, as producers sent them before small images went inline.</param>
    public static async Task<IReadOnlyDictionary<string, double>> RunAsync(QueueBenchContext context, bool claimCheckAll, CancellationToken cancellationToken)
    {
        await QueueBench.EnsureSilosAsync(context, cancellationToken);
        int rounds = context.Quick ? 4 : 8;
        int rawPerRound = context.Quick ? 1000 : 2000;
        int jobsPerRound = context.Quick ? 150 : 400;
        // Each measured phase also runs for at least this long: a phase of a few hundred jobs lasts a fraction of a
        // second here, where the scheduler's noise and the 10 ms ticks of the CPU clocks in /proc weigh the most.
        TimeSpan phaseAtLeast = TimeSpan.FromSeconds(context.Quick ? 1 : 2);
        string[] paths = [.. context.Images.Take(context.Quick ? 64 : 256)];
        if (paths.Length == 0)
        {
            throw new SetupException("the cached part needs at least one image");
        }

        byte[][] images = [.. paths.Select(File.ReadAllBytes)];
        string[] hashes = [.. images.Select(bytes => ContentHash.Of(bytes))];
        await using var probe = await ServerProbe.ConnectAsync(context.Redis, context.Amqp, context.Cluster);
        await using var redis = new RedisConnection(context.Redis);
        var messageData = new RedisMessageDataRepository(redis, TimeSpan.FromHours(1));
        string echoQueue = $"cached-bench-echo-{context.Cluster.RunId}";
        string floorQueue = $"cached-bench-floor-{context.Cluster.RunId}";
        string floorReplyQueue = $"cached-bench-floor-reply-{context.Cluster.RunId}";
        var verdict = new ContractFloorConsumer.Template();

        // The trivial consumer on a bus of its own (as a silo is another process's), the callers on another.
        IBusControl echoBus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.UseArtGrid(context.Amqp, messageData);
            rabbit.ReceiveEndpoint(echoQueue, endpoint =>
            {
                // As the silos' own endpoint: a durable queue (declared as senders declare it: deleted at the end
                // rather than auto-deleted), persistent messages, the same prefetch and concurrency.
                endpoint.PrefetchCount = 32;
                endpoint.ConcurrentMessageLimit = 16;
                endpoint.Consumer<EchoConsumer>();
            });
            foreach ((string queue, bool publish) in new[] { (floorQueue, true), (floorReplyQueue, false) })
            {
                rabbit.ReceiveEndpoint(queue, endpoint =>
                {
                    endpoint.PrefetchCount = 32;
                    endpoint.ConcurrentMessageLimit = 16;
                    endpoint.Consumer(() => new ContractFloorConsumer(verdict, publish));
                });
            }
        });
        IBusControl bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.UseArtGrid(context.Amqp, messageData));
        await echoBus.StartAsync(cancellationToken);
        await bus.StartAsync(cancellationToken);
        try
        {
            IRequestClient<BenchPing> echo = bus.CreateRequestClient<BenchPing>(new Uri($"queue:{echoQueue}"), RequestTimeout.After(s: 20));
            // As every producer sends to the priority queue: declared with its argument, sent through its exchange.
            Uri scoreQueue = await ScoreQueue.DeclareAsync(context.Amqp, context.Cluster.QueueName, cancellationToken);
            IRequestClient<ScoreImages> score = bus.CreateRequestClient<ScoreImages>(scoreQueue, RequestTimeout.After(s: 60));
            IRequestClient<ScoreImages> floor = bus.CreateRequestClient<ScoreImages>(new Uri($"queue:{floorQueue}"), RequestTimeout.After(s: 20));
            IRequestClient<ScoreImages> floorReply = bus.CreateRequestClient<ScoreImages>(new Uri($"queue:{floorReplyQueue}"), RequestTimeout.After(s: 20));
            int job = 0;
            Task<string?> RawAsync(int i) => PingAsync(echo, i, null, cancellationToken);
            Task<string?> RawImageAsync(int i) => PingAsync(echo, i, images[i % images.Length], cancellationToken);
            Task<string?> CachedAsync(int i) => JobAsync(score, messageData, claimCheckAll, null, true, $"{context.Cluster.RunId}-cached-{Interlocked.Increment(ref job)}", paths[i % paths.Length], images[i % images.Length], cancellationToken);
            // The by-hash jobs, to the silos or to the floor's consumers.
            Func<int, Task<string?>> ByHashTo(IRequestClient<ScoreImages> client, string kind) =>
                i => JobAsync(client, messageData, claimCheckAll, hashes[i % hashes.Length], true, $"{context.Cluster.RunId}-{kind}-{Interlocked.Increment(ref job)}", paths[i % paths.Length], images[i % images.Length], cancellationToken);
            Func<int, Task<string?>> ByHashAsync = ByHashTo(score, "hash"), FloorAsync = ByHashTo(floor, "floor"), FloorReplyAsync = ByHashTo(floorReply, "floor-reply");
            Task<string?> PrimeAsync(int i) => JobAsync(score, messageData, claimCheckAll, null, false, $"{context.Cluster.RunId}-prime-{i}", paths[i], images[i], cancellationToken);

            // Every image scored once (not measured; after the uncached part they are cache hits already), then a
            // warm-up of each phase (JIT, connections, grain activations on every silo).
            Progress.Say($"cached: {paths.Length} images scored once, then {rounds} rounds of at least {rawPerRound} round trips and {jobsPerRound} cached jobs, each for at least {phaseAtLeast.TotalSeconds:0} s, {Concurrency} callers");
            var warmUp = new List<Phase>();
            foreach ((string name, int count, Func<int, Task<string?>> call) in new[]
            {
                ("prime", images.Length, (Func<int, Task<string?>>)PrimeAsync),
                (Raw, rawPerRound / 4, RawAsync),
                (Cached, Math.Min(jobsPerRound, 4 * Concurrency), CachedAsync),
                (ByHash, Math.Min(jobsPerRound, 4 * Concurrency), ByHashAsync),
                (Floor, Math.Min(jobsPerRound, 4 * Concurrency), FloorAsync),
                (FloorReply, Math.Min(jobsPerRound, 4 * Concurrency), FloorReplyAsync),
            })
            {
                if (name == Floor)
                {
                    // The floor's answer: a verdict of the silos, for one of these images.
                    verdict.Scored = await VerdictAsync(score, $"{context.Cluster.RunId}-floor-template", paths[0], hashes[0], cancellationToken);
                }

                Phase phase = await Phase.RunAsync(name, -1, count, call, probe, cancellationToken);
                warmUp.Add(phase);
                Progress.Say($"cached: warm-up {phase.Name,-6} {phase.Ok}/{phase.Count} ok in {phase.Seconds:0.00} s{(phase.Errors.Count > 0 ? $"; first error: {phase.Errors[0]}" : "")}");
            }

            (double settledIdle, double settleSeconds) = await SettleAsync(context, RawAsync, CachedAsync, probe, warmUp, cancellationToken);
            var phases = new List<Phase>();
            for (int round = 0; round < rounds; round++)
            {
                int r = round;
                Func<Task<Phase>>[] kinds =
                [
                    () => Phase.RunAsync(Raw, r, rawPerRound, RawAsync, probe, cancellationToken, phaseAtLeast),
                    () => Phase.RunAsync(Cached, r, jobsPerRound, CachedAsync, probe, cancellationToken, phaseAtLeast),
                    () => Phase.RunAsync(RawImage, r, jobsPerRound, RawImageAsync, probe, cancellationToken, phaseAtLeast),
                    () => Phase.RunAsync(ByHash, r, jobsPerRound, ByHashAsync, probe, cancellationToken, phaseAtLeast),
                    () => Phase.RunAsync(Floor, r, jobsPerRound, FloorAsync, probe, cancellationToken, phaseAtLeast),
                    () => Phase.RunAsync(FloorReply, r, jobsPerRound, FloorReplyAsync, probe, cancellationToken, phaseAtLeast),
                ];
                foreach (int p in round % 2 == 0 ? [0, 1, 2, 3, 4, 5] : new[] { 5, 4, 3, 2, 1, 0 })
                {
                    Phase phase = await kinds[p]();
                    phases.Add(phase);
                    Progress.Say($"cached: round {round + 1}/{rounds} {phase.Name,-6} {phase.Ok}/{phase.Count} ok in {phase.Seconds:0.00} s: {phase.PerSecond:0.0}/s");
                }
            }

            IReadOnlyList<(int Bytes, double Inline, double ClaimChecked)> sweep = await PayloadSweepAsync(echo, messageData, probe, context.Quick, cancellationToken);
            return Report(context, phases, warmUp, sweep, settledIdle, settleSeconds);
        }
        finally
        {
            await BenchCluster.Try("stop the cached part's buses", () => Task.WhenAll(bus.StopAsync(TimeSpan.FromSeconds(30)), echoBus.StopAsync(TimeSpan.FromSeconds(30))));
            await BenchCluster.Try("delete the echo queue", async () =>
            {
                var factory = new RabbitMQ.Client.ConnectionFactory { Uri = context.Amqp };
                await using RabbitMQ.Client.IConnection connection = await factory.CreateConnectionAsync(CancellationToken.None);
                await using RabbitMQ.Client.IChannel channel = await connection.CreateChannelAsync(cancellationToken: CancellationToken.None);
                foreach (string queue in new[] { echoQueue, floorQueue, floorReplyQueue })
                {
                    await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false, cancellationToken: CancellationToken.None);
                }
            });
        }
    }

    /// <summary>
    /// <c>artgrid-bench cached-jobs [--quick] [--claim-check-all] [--silo-dll PATH] [--silos N] [--redis HOST:PORT]
    /// [--amqp URI] [--silo-setting NAME=VALUE ...] [--out DIR]</c>: the part on its own (<c>--silo-dll</c>: another build's
    /// silo, to compare two builds; <c>--silo-setting</c>: one build under other settings).
    /// </summary>
    public static async Task<int> RunCommandAsync(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try
        {
            (string redis, Uri amqp) = CommandLine.Servers(args);
            IReadOnlyDictionary<string, string> siloSettings = CommandLine.SiloSettings(args);
            int silos = CommandLine.PositiveInt(args, "--silos", 2);
            await BenchCluster.CheckServersAsync(redis, amqp);
            string siloDll = CommandLine.Option(args, "--silo-dll") ?? BenchCluster.BuildOutputs().SiloDll;
            string outDir = CommandLine.Option(args, "--out") ?? Path.Combine(PhotoMix.RepositoryRoot(), "bench-results");
            string[] images = [.. Directory.EnumerateFiles(Path.Combine(PhotoMix.RepositoryRoot(), "samples"), "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
            await using var cluster = new BenchCluster("c" + Guid.NewGuid().ToString("N")[..10], redis, amqp);
            var context = new QueueBenchContext(cluster, siloDll, "", redis, amqp, images, outDir, args.Contains("--quick"), silos, siloSettings);
            IReadOnlyDictionary<string, double> figures = await RunAsync(context, args.Contains("--claim-check-all"), stop.Token);
            Console.WriteLine(string.Join(' ', figures.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key}={f.Value:0.###}"))));
            return 0;
        }
        catch (SetupException ex)
        {
            Console.Error.WriteLine($"artgrid-bench cached-jobs: {ex.Message}");
            return 3;
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"artgrid-bench cached-jobs: {ex.Message} (see artgrid-bench without arguments)");
            return 2;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("artgrid-bench cached-jobs: stopped before the end; nothing measured");
            return 130;
        }
    }

    /// <summary>
    /// What carrying an image in the message costs against claim-checking it, by size: round trips/s of the echo
    /// consumer with a payload sent inline (base64 in the message body) and through the Redis claim check (put by the
    /// caller, read by the consumer), in alternating phases: what <c>ImageData</c>'s inline limit was weighed against.
    /// </summary>
    private static async Task<IReadOnlyList<(int Bytes, double Inline, double ClaimChecked)>> PayloadSweepAsync(
        IRequestClient<BenchPing> echo, IMessageDataRepository messageData, ServerProbe probe, bool quick, CancellationToken cancellationToken)
    {
        int count = quick ? 60 : 200;
        var rows = new List<(int, double, double)>();
        foreach (int size in new[] { 16 << 10, 64 << 10, ImageData.InlineLimitBytes })
        {
            byte[] payload = new byte[size];
            new Random(size).NextBytes(payload);
            async Task<string?> SendAsync(int i, bool inline)
            {
                MessageData<byte[]> data = inline ? new MassTransit.MessageData.Values.BytesInlineMessageData(payload) : await ImageData.ClaimCheckAsync(messageData, payload, cancellationToken);
                Response<BenchPong> response = await echo.GetResponse<BenchPong>(new BenchPing { Sequence = i, Payload = data }, cancellationToken);
                return response.Message.PayloadBytes == size ? null : "the payload did not arrive whole";
            }

            // ok answers and seconds of each way, over two rounds whose order alternates
            double[] ok = new double[2], seconds = new double[2];
            for (int round = 0; round < 2; round++)
            {
                foreach (int way in round % 2 == 0 ? new[] { 0, 1 } : [1, 0])
                {
                    Phase phase = await Phase.RunAsync(way == 0 ? "inline" : "claim-check", round, count, i => SendAsync(i, way == 0), probe, cancellationToken);
                    ok[way] += phase.Ok;
                    seconds[way] += phase.Seconds;
                }
            }

            double inline = ok[0] / seconds[0], claimChecked = ok[1] / seconds[1];
            Progress.Say($"cached: payload {size >> 10} KiB: inline {inline:0.0}/s, claim-checked {claimChecked:0.0}/s");
            rows.Add((size, inline, claimChecked));
        }

        return rows;
    }

    /// <summary>
    /// Warms up until the silos idle. For tens of seconds after a silo starts, the runtime compiles its hot methods
    /// again, optimised (tiered compilation), in the background: measured here, up to half a core per silo with no job
    /// in flight, in the raw phases as in the cached ones, where a silo that has run for hours idles at a few percent
    /// of one. Rounds of both kinds of calls, each followed by a quiet second on the silos' CPU clock, until that
    /// second costs them at most <see cref="SettledIdleMsPerSecond"/> each, or the time allowed is spent (then the
    /// report says so). Returns the silos' last idle rate (CPU ms per second, all silos) and the seconds it took.
    /// </summary>
    private static async Task<(double IdleMsPerSecond, double Seconds)> SettleAsync(
        QueueBenchContext context, Func<int, Task<string?>> raw, Func<int, Task<string?>> cached, ServerProbe probe, List<Phase> warmUp, CancellationToken cancellationToken)
    {
        TimeSpan allowed = TimeSpan.FromSeconds(context.Quick ? 45 : 90);
        var clock = Stopwatch.StartNew();
        double idle = double.NaN;
        while (clock.Elapsed < allowed)
        {
            warmUp.Add(await Phase.RunAsync(Raw, -1, 250, raw, probe, cancellationToken));
            warmUp.Add(await Phase.RunAsync(Cached, -1, 4 * Concurrency, cached, probe, cancellationToken));
            ServerProbe.Sample before = await probe.SampleAsync();
            long start = Stopwatch.GetTimestamp();
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            ServerProbe.Sample after = await probe.SampleAsync();
            idle = (after.SiloCpuMs - before.SiloCpuMs) / Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (idle <= SettledIdleMsPerSecond * context.Silos)
            {
                break;
            }
        }

        Progress.Say($"cached: silos idle at {idle:0} CPU ms/s ({context.Silos} silos) after {clock.Elapsed.TotalSeconds:0} s of warm-up");
        return (idle, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The most CPU ms per second a settled silo spends with no job in flight (runtime timers, metrics, membership).</summary>
    private const double SettledIdleMsPerSecond = 60;

    // A raw round trip, with a payload carried inline when one is given (a cached job's image: what the bus alone costs
    // to move that job).
    private static async Task<string?> PingAsync(IRequestClient<BenchPing> client, int i, byte[]? payload, CancellationToken cancellationToken)
    {
        var ping = new BenchPing { Sequence = i, Payload = payload is null ? null : new MassTransit.MessageData.Values.BytesInlineMessageData(payload) };
        Response<BenchPong> response = await client.GetResponse<BenchPong>(ping, cancellationToken);
        return response.Message.Sequence != i ? "a pong for another ping"
            : response.Message.PayloadBytes != (payload?.Length ?? 0) ? "the payload did not arrive whole"
            : null;
    }

    // As `artgrid submit --wait`: the job's image as message data (inline when small), or as its SHA-256 alone where
    // one is given (`--by-hash`, the image scored before), a request, the answer checked.
    private static async Task<string?> JobAsync(IRequestClient<ScoreImages> client, IMessageDataRepository messageData, bool claimCheckAll, string? sha256, bool cached, string jobId, string path, byte[] bytes, CancellationToken cancellationToken)
    {
        ScoreImages command = Job(
            jobId,
            sha256 is not null ? new ImageReference { Name = Path.GetFileName(path), Sha256 = sha256 }
            : new ImageReference { Name = Path.GetFileName(path), Data = claimCheckAll ? await ImageData.ClaimCheckAsync(messageData, bytes, cancellationToken) : await new ImageData(messageData).OfAsync(bytes, cancellationToken) });
        Response<ImagesScored, ScoreImagesRejected> response = await client.GetResponse<ImagesScored, ScoreImagesRejected>(command, cancellationToken);
        if (response.Message is ScoreImagesRejected rejected)
        {
            return $"rejected {rejected.Code}: {rejected.Reason}";
        }

        if (response.Message is not ImagesScored scored || scored.JobId != jobId || scored.Verdict.Images.Count != 1)
        {
            return "the answer is not this job's verdict of one image";
        }

        ImageScore image = scored.Verdict.Images[0];
        return image.Error is { } error ? $"image error {error.Code}: {error.Message}"
            : image.Label is null ? "image without a label"
            : image.Cached || !cached ? null
            : Phase.NotCached;
    }

    // A job of one image, with no metadata, sent now.
    private static ScoreImages Job(string jobId, ImageReference image) =>
        new() { JobId = jobId, Images = [image], Metadata = JobMetadata.None, SubmittedAt = DateTimeOffset.UtcNow };

    // One by-hash job's verdict, as the silos give it: the floor consumer's answer.
    private static async Task<ImagesScored> VerdictAsync(IRequestClient<ScoreImages> client, string jobId, string path, string sha256, CancellationToken cancellationToken)
    {
        ScoreImages command = Job(jobId, new ImageReference { Name = Path.GetFileName(path), Sha256 = sha256 });
        Response<ImagesScored, ScoreImagesRejected> response = await client.GetResponse<ImagesScored, ScoreImagesRejected>(command, cancellationToken);
        return response.Message as ImagesScored
            ?? throw new SetupException($"the floor's verdict: the silos rejected a cached image ({((ScoreImagesRejected)response.Message).Reason})");
    }

    private static IReadOnlyDictionary<string, double> Report(
        QueueBenchContext context, List<Phase> phases, List<Phase> warmUp, IReadOnlyList<(int Bytes, double Inline, double ClaimChecked)> sweep, double settledIdle, double settleSeconds)
    {
        Phase[] raw = [.. phases.Where(p => p.Name == Raw)];
        Phase[] cached = [.. phases.Where(p => p.Name == Cached)];
        Phase[] rawImage = [.. phases.Where(p => p.Name == RawImage)];
        Phase[] byHash = [.. phases.Where(p => p.Name == ByHash)];
        Phase[] floor = [.. phases.Where(p => p.Name == Floor)];
        Phase[] floorReply = [.. phases.Where(p => p.Name == FloorReply)];
        Spread floorRatio = RoundRatios(floor, raw);
        Spread floorReplyRatio = RoundRatios(floorReply, raw);
        Spread hashOfFloor = RoundRatios(byHash, floor);
        double rawRate = Rate(raw);
        double cachedRate = Rate(cached);
        double rawImageRate = Rate(rawImage);
        double byHashRate = Rate(byHash);
        Spread hashRatio = RoundRatios(byHash, raw);
        Spread ratio = RoundRatios(cached, raw);
        Spread imageRatio = RoundRatios(cached, rawImage);
        int cachedOk = cached.Sum(p => p.Ok);
        Dictionary<string, long> commands = Phase.Sum(cached.Select(p => p.RedisCommands));
        double commandsPerJob = commands.Values.Sum() / (double)cachedOk;

        var rounds = new Table("round", "raw round trips", "raw /s", "raw+image /s", "cached jobs", "cached s", "cached jobs/s", "ratio", "ratio to raw+image", "by-hash jobs/s", "by-hash ratio", "floor /s", "floor ratio", "floor-reply ratio");
        for (int k = 0; k < raw.Length; k++)
        {
            (Phase r, Phase c, Phase i, Phase h, Phase f, Phase fr) = (raw[k], cached[k], rawImage[k], byHash[k], floor[k], floorReply[k]);
            rounds.Row(r.Round + 1, r.Ok, r.PerSecond, i.PerSecond, c.Ok, c.Seconds, c.PerSecond, c.PerSecond / r.PerSecond, c.PerSecond / i.PerSecond, h.PerSecond, h.PerSecond / r.PerSecond, f.PerSecond, f.PerSecond / r.PerSecond, fr.PerSecond / r.PerSecond);
        }

        rounds.Row("all", raw.Sum(p => p.Ok), rawRate, rawImageRate, cachedOk, cached.Sum(p => p.Seconds), cachedRate, ratio, imageRatio, byHashRate, hashRatio, Rate(floor), floorRatio, floorReplyRatio);
        rounds.Print(
            $"Cached jobs against raw request/response ({context.Silos} silos, {Concurrency} callers, closed loop, after {settleSeconds:0} s of warm-up with the silos idling at " +
            $"{settledIdle:0} CPU ms/s; ratio = cached jobs/s over raw round trips/s, median of the rounds [range]; raw+image: raw round trips carrying the cached job's image inline; " +
            "by-hash: the cached jobs with each image named by its SHA-256 alone; floor: the by-hash jobs answered by a trivial consumer with a silo's verdict and its event, " +
            "floor-reply: the same with no event)");

        var cost = new Table("per cached job", "value");
        cost.Row("Redis commands", commandsPerJob);
        foreach ((string name, long calls) in commands.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal))
        {
            cost.Row($"  {name}", calls / (double)cachedOk);
        }

        // The silos' own background work (membership, metrics, snapshots) goes on at the rate the raw phases show,
        // when they have no job at all: taken off, what is left is what the jobs cost.
        double idleSiloMsPerSecond = raw.Sum(p => p.SiloCpuMs) / raw.Sum(p => p.Seconds);
        double siloJobMs = (cached.Sum(p => p.SiloCpuMs) - (idleSiloMsPerSecond * cached.Sum(p => p.Seconds))) / cachedOk;
        cost.Row("CPU ms, silos", PerJob(cached, p => p.SiloCpuMs));
        cost.Row("CPU ms, silos, less their idle rate", siloJobMs);
        cost.Row("silos' idle CPU ms per second (raw phases)", idleSiloMsPerSecond);
        cost.Row("CPU ms, Redis", PerJob(cached, p => p.RedisCpuMs));
        cost.Row("CPU ms, RabbitMQ", PerJob(cached, p => p.RabbitCpuMs));
        cost.Row("CPU ms, this process (callers)", PerJob(cached, p => p.SelfCpuMs));
        cost.Row("Redis commands per raw round trip", PerJob(raw, p => p.RedisCommands.Values.Sum()));
        cost.Row("CPU ms per raw round trip, RabbitMQ + this process", PerJob(raw, p => p.RabbitCpuMs + p.SelfCpuMs));
        cost.Row("CPU ms per raw+image round trip, RabbitMQ + this process", PerJob(rawImage, p => p.RabbitCpuMs + p.SelfCpuMs));
        cost.Row("by hash: Redis commands", PerJob(byHash, p => p.RedisCommands.Values.Sum()));
        cost.Row("by hash: CPU ms, silos / Redis / RabbitMQ / callers", $"{PerJob(byHash, p => p.SiloCpuMs):0.00} / {PerJob(byHash, p => p.RedisCpuMs):0.00} / {PerJob(byHash, p => p.RabbitCpuMs):0.00} / {PerJob(byHash, p => p.SelfCpuMs):0.00}");
        cost.Row("floor: CPU ms, RabbitMQ / this process (callers and the trivial consumer)", $"{PerJob(floor, p => p.RabbitCpuMs):0.00} / {PerJob(floor, p => p.SelfCpuMs):0.00}");
        cost.Row("floor-reply: CPU ms, RabbitMQ / this process", $"{PerJob(floorReply, p => p.RabbitCpuMs):0.00} / {PerJob(floorReply, p => p.SelfCpuMs):0.00}");
        cost.Print("Where a cached job's cost goes (Redis INFO commandstats and process CPU time over the cached phases)");

        var sizes = new Table("payload KiB", "inline round trips/s", "claim-checked round trips/s", "inline / claim-checked");
        foreach ((int bytes, double inline, double claimChecked) in sweep)
        {
            sizes.Row(bytes >> 10, inline, claimChecked, inline / claimChecked);
        }

        sizes.Print("An image-sized payload carried in the message against claim-checked in Redis (raw request/response, same callers)");

        if (settledIdle > SettledIdleMsPerSecond * context.Silos)
        {
            Console.WriteLine($"Note: the silos did not settle in the warm-up (idle at {settledIdle:0} CPU ms/s): the rounds include their runtime's warm-up.");
        }

        List<Phase> failed = [.. warmUp.Concat(phases).Where(p => p.Ok < p.Count)];
        foreach (Phase phase in failed)
        {
            Console.WriteLine($"Note: {phase.Name} (round {(phase.Round < 0 ? "warm-up" : (phase.Round + 1).ToString(CultureInfo.InvariantCulture))}): {phase.Count - phase.Ok} of {phase.Count} failed; first: {phase.Errors.FirstOrDefault()}");
        }

        var figures = new Dictionary<string, double>
        {
            ["cached_jobs_ratio"] = ratio.Median,
            ["cached_jobs_per_s"] = cachedRate,
            ["raw_round_trips_per_s"] = rawRate,
            ["cached_jobs_vs_raw_image"] = imageRatio.Median,
            ["raw_image_round_trips_per_s"] = rawImageRate,
            ["cached_hash_jobs_ratio"] = hashRatio.Median,
            ["cached_hash_jobs_per_s"] = byHashRate,
            ["cpu_ms_per_raw_round_trip"] = PerJob(raw, p => p.AllCpuMs),
            ["cpu_ms_per_cached_job"] = PerJob(cached, p => p.AllCpuMs),
            ["cpu_ms_per_hash_job"] = PerJob(byHash, p => p.AllCpuMs),
            ["contract_floor_ratio"] = floorRatio.Median,
            ["contract_floor_reply_only_ratio"] = floorReplyRatio.Median,
            ["cached_hash_jobs_vs_floor"] = hashOfFloor.Median,
            ["cpu_ms_per_floor_job"] = PerJob(floor, p => p.AllCpuMs),
            ["cpu_ms_per_floor_reply_job"] = PerJob(floorReply, p => p.AllCpuMs),
            ["silo_idle_cpu_ms_per_s"] = settledIdle,
            ["redis_commands_per_cached_job"] = commandsPerJob,
            ["silo_cpu_ms_per_cached_job"] = PerJob(cached, p => p.SiloCpuMs),
            ["silo_job_cpu_ms_per_cached_job"] = siloJobMs,
        };
        Directory.CreateDirectory(context.OutDir);
        string json = Path.Combine(context.OutDir, "cached-jobs.json");
        File.WriteAllText(json, JsonSerializer.Serialize(
            new
            {
                run = context.Cluster.RunId,
                at = DateTimeOffset.UtcNow,
                settings = new { context.Silos, context.Quick, Concurrency, Images = context.Images.Count, Environment.ProcessorCount },
                figures,
                ratio = new { ratio.Median, ratio.Min, ratio.Max },
                redisCommandsPerCachedJob = commands.ToDictionary(c => c.Key, c => c.Value / (double)cachedOk),
                payloadSweep = sweep.Select(r => new { r.Bytes, InlinePerSecond = r.Inline, ClaimCheckedPerSecond = r.ClaimChecked }),
                phases = warmUp.Concat(phases).Select(p => new { p.Name, Round = p.Round + 1, p.Count, p.Ok, p.Seconds, p.PerSecond, p.SiloCpuMs, p.RedisCpuMs, p.RabbitCpuMs, p.SelfCpuMs, p.RedisCommands, Errors = p.Errors.Take(5) }),
            },
            new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Progress.Say($"cached: raw numbers in {json}");
        return figures;
    }

    // A kind of phase over all its rounds: answers per second, and a cost per answer.
    private static double Rate(Phase[] kind) => kind.Sum(p => p.Ok) / kind.Sum(p => p.Seconds);

    private static double PerJob(Phase[] kind, Func<Phase, double> cost) => kind.Sum(cost) / kind.Sum(p => p.Ok);

    // Round by round (the kinds' phases of one round were run side by side), one kind's rate over another's.
    private static Spread RoundRatios(Phase[] kind, Phase[] baseline) =>
        Spread.OfRatios([.. kind.Select(p => p.PerSecond)], [.. baseline.Select(p => p.PerSecond)]);

    /// <summary>One closed-loop phase: its wall time, its answers, and what it cost the servers.</summary>
    private sealed record Phase(string Name, int Round, int Count, int Ok, double Seconds, IReadOnlyList<string> Errors, Dictionary<string, long> RedisCommands, double SiloCpuMs, double RedisCpuMs, double RabbitCpuMs, double SelfCpuMs)
    {
        public const string NotCached = "answered, but not from the result cache";

        public double PerSecond => Ok / Seconds;

        /// <summary>What the phase cost every party measured: the silos, Redis, RabbitMQ and the callers.</summary>
        public double AllCpuMs => SiloCpuMs + RedisCpuMs + RabbitCpuMs + SelfCpuMs;

        /// <summary>
        /// <paramref name="count"/> calls, <see cref="Concurrency"/> at a time, closed loop, and more until
        /// <paramref name="atLeast"/> has passed since the first.
        /// </summary>
        public static async Task<Phase> RunAsync(string name, int round, int count, Func<int, Task<string?>> call, ServerProbe probe, CancellationToken cancellationToken, TimeSpan atLeast = default)
        {
            var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
            int next = -1;
            int calls = 0;
            int ok = 0;
            ServerProbe.Sample before = await probe.SampleAsync();
            long start = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, Math.Min(count, Concurrency)).Select(_ => Task.Run(
                async () =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < count || Stopwatch.GetElapsedTime(start) < atLeast)
                    {
                        Interlocked.Increment(ref calls);
                        string? error;
                        try
                        {
                            error = await call(i);
                        }
                        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                        {
                            error = $"{ex.GetType().Name}: {ex.Message}";
                        }

                        if (error is null)
                        {
                            Interlocked.Increment(ref ok);
                        }
                        else
                        {
                            errors.Enqueue(error);
                        }
                    }
                },
                cancellationToken)));
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            ServerProbe.Sample after = await probe.SampleAsync();
            Dictionary<string, long> commands = after.Commands
                .Select(c => (c.Key, Calls: c.Value - before.Commands.GetValueOrDefault(c.Key)))
                .Where(c => c.Calls > 0)
                .ToDictionary(c => c.Key, c => c.Calls, StringComparer.Ordinal);
            return new Phase(
                name, round, calls, ok, seconds, [.. errors], commands,
                after.SiloCpuMs - before.SiloCpuMs, after.RedisCpuMs - before.RedisCpuMs, after.RabbitCpuMs - before.RabbitCpuMs, after.SelfCpuMs - before.SelfCpuMs);
        }

        public static Dictionary<string, long> Sum(IEnumerable<Dictionary<string, long>> counts)
        {
            var sum = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach ((string name, long calls) in counts.SelectMany(c => c))
            {
                sum[name] = sum.GetValueOrDefault(name) + calls;
            }

            return sum;
        }
    }

    /// <summary>
    /// Reads what the servers have done so far: Redis' commands by name (INFO commandstats; the probe's own INFO calls
    /// left out) and CPU (INFO cpu), the silos' and RabbitMQ's CPU from /proc (RabbitMQ's Erlang VM found by the AMQP
    /// port in its environment; 0 where it is not found), and this process's.
    /// </summary>
    private sealed class ServerProbe(ConnectionMultiplexer redis, BenchCluster cluster, int? rabbitPid) : IAsyncDisposable
    {
        private static readonly double TicksPerMs = 100 / 1000.0; // USER_HZ

        public sealed record Sample(Dictionary<string, long> Commands, double RedisCpuMs, double SiloCpuMs, double RabbitCpuMs, double SelfCpuMs);

        public static async Task<ServerProbe> ConnectAsync(string redis, Uri amqp, BenchCluster cluster)
        {
            ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true");
            int port = amqp.IsDefaultPort ? 5672 : amqp.Port;
            return new ServerProbe(connection, cluster, FindRabbit(port));
        }

        public async Task<Sample> SampleAsync()
        {
            IServer server = redis.GetServers()[0];
            IGrouping<string, KeyValuePair<string, string>>[] info = await server.InfoAsync("commandstats");
            var commands = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> entry in info.SelectMany(g => g))
            {
                string name = entry.Key.StartsWith("cmdstat_", StringComparison.Ordinal) ? entry.Key["cmdstat_".Length..] : entry.Key;
                string? calls = entry.Value.Split(',').FirstOrDefault(f => f.StartsWith("calls=", StringComparison.Ordinal));
                if (name != "info" && calls is not null)
                {
                    commands[name.ToUpperInvariant()] = long.Parse(calls["calls=".Length..], CultureInfo.InvariantCulture);
                }
            }

            IGrouping<string, KeyValuePair<string, string>>[] cpu = await server.InfoAsync("cpu");
            double redisCpu = cpu.SelectMany(g => g)
                .Where(e => e.Key is "used_cpu_sys" or "used_cpu_user")
                .Sum(e => double.Parse(e.Value, CultureInfo.InvariantCulture)) * 1000;
            double silos = cluster.Silos.Sum(s => ProcessCpuMs(s.Id));
            return new Sample(commands, redisCpu, silos, rabbitPid is { } pid ? ProcessCpuMs(pid) : 0, CpuTime.Self.TotalMilliseconds);
        }

        public async ValueTask DisposeAsync() => await redis.DisposeAsync();

        // utime + stime (fields 14 and 15 of /proc/PID/stat, after the parenthesised name); 0 once the process is gone.
        private static double ProcessCpuMs(int pid)
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerMs;
            }
            catch (IOException)
            {
                return 0;
            }
        }

        private static int? FindRabbit(int amqpPort)
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                try
                {
                    if (!int.TryParse(Path.GetFileName(dir), out int pid) || File.ReadAllText(Path.Combine(dir, "comm")).Trim() != "beam.smp")
                    {
                        continue;
                    }

                    string[] environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                    if (environment.Contains($"ARTGRID_AMQP_PORT={amqpPort}") || environment.Contains($"RABBITMQ_NODE_PORT={amqpPort}"))
                    {
                        return pid;
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // gone, or not ours to read
                }
            }

            return null;
        }
    }
}

/// <summary>The raw round trip's request: a sequence number, and for the payload sweep an image-sized payload.</summary>
public sealed record BenchPing
{
    public int Sequence { get; init; }

    public MessageData<byte[]>? Payload { get; init; }
}

/// <summary>The raw round trip's answer.</summary>
public sealed record BenchPong
{
    public int Sequence { get; init; }

    public int PayloadBytes { get; init; }
}

/// <summary>The trivial consumer of the raw round trips: it reads the payload, if any (as a silo reads an image), and answers.</summary>
public sealed class EchoConsumer : IConsumer<BenchPing>
{
    public async Task Consume(ConsumeContext<BenchPing> context)
    {
        int bytes = context.Message.Payload is { HasValue: true } payload ? (await payload.Value).Length : 0;
        await context.RespondAsync(new BenchPong { Sequence = context.Message.Sequence, PayloadBytes = bytes });
    }
}

/// <summary>
/// The job contract's trivial consumer: it answers a <see cref="ScoreImages"/> with a silo's verdict (one image, cached),
/// under the job's id, publishing the <see cref="ImagesScored"/> event first as a silo does where <c>publish</c> is set.
/// </summary>
public sealed class ContractFloorConsumer(ContractFloorConsumer.Template template, bool publish) : IConsumer<ScoreImages>
{
    public async Task Consume(ConsumeContext<ScoreImages> context)
    {
        ImagesScored scored = template.Scored ?? throw new InvalidOperationException("the floor has no verdict yet");
        ImagesScored answer = scored with { JobId = context.Message.JobId, Verdict = scored.Verdict with { JobId = context.Message.JobId } };
        if (publish)
        {
            await context.Publish(answer);
        }

        await context.RespondAsync(answer);
    }

    /// <summary>The verdict the floor answers with, set once the silos have given one.</summary>
    public sealed class Template
    {
        public ImagesScored? Scored { get; set; }
    }
}
