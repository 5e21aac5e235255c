using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;

namespace ArtGrid.Bench;

/// <summary>
/// The queue bench's uncached part: the same new images scored (a) embedded, by <c>artgrid score FILE...</c> (the
/// command line's Release build, run as a process, so that it shares no thread with the bench), and (b) through the
/// bus, sent from the bench as <c>artgrid submit --wait</c> sends them: one ScoreImages request per image to the
/// priority queue's exchange, its bytes inline or claim-checked in Redis (<c>ImageData</c>), at most 256 awaited and 8 uploaded at once, to the run's silos. The images are split into
/// rounds; each round's images go through both paths (the embedded run keeps its results in its own memory, so the
/// silos still meet them uncached), the order alternating from round to round, and while one path runs the other is
/// idle. The bus is timed from the first request sent to the last verdict (its silos warmed up first, with the samples);
/// the embedded command from its start to its exit, less its start-up: a one-image run of the same round, whose time
/// and CPU come off the run's (the whole command's time is printed beside it). CPU is read from /proc (utime + stime) before and after
/// each run, per process: the silos, their decode workers, the sender (the bench or the command line, and the command
/// line's decode workers), Redis, RabbitMQ, and the rest of the machine.
/// </summary>
internal static class BusVsEmbeddedBench
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(15);

    /// <summary>The process groups whose CPU the part reports, in table order.</summary>
    private static readonly string[] Groups = ["silo", "silo decode workers", "cli", "cli decode workers", "bench (bus client)", "redis", "rabbitmq", "cli start-up", "rest of machine"];

    /// <summary>
    /// The groups each path's CPU per image counts: its own processes, without the command line's start-up (the silos
    /// had theirs before), the idle other path, or the rest of the machine.
    /// </summary>
    private static readonly Dictionary<string, string[]> PathGroups = new()
    {
        ["embedded"] = ["cli", "cli decode workers"],
        ["bus"] = ["silo", "silo decode workers", "bench (bus client)", "redis", "rabbitmq"],
    };

    // As artgrid submit --wait: jobs awaited at once, images read and uploaded at once.
    private const int InFlight = 256;
    private const int Uploads = 8;

    public static async Task<IReadOnlyDictionary<string, double>> RunAsync(QueueBenchContext context, CancellationToken cancellationToken)
    {
        string cliDll = context.CliDll;
        int rounds = context.Quick ? 2 : 4;
        if (context.Images.Count < 2 * rounds)
        {
            throw new SetupException($"bus vs embedded needs at least {2 * rounds} images, not {context.Images.Count}");
        }

        await QueueBench.EnsureSilosAsync(context, cancellationToken);
        List<string>[] chunks = [.. Enumerable.Range(0, rounds).Select(r => context.Images.Where((_, i) => i % rounds == r).ToList())];
        Progress.Say($"bus vs embedded: {context.Images.Count} new images in {rounds} rounds, each through `artgrid score` and as ScoreImages requests to {context.Silos} silos");
        await using var redis = new RedisConnection(context.Redis);
        var messageData = new RedisMessageDataRepository(redis, TimeSpan.FromHours(1));
        IBusControl busControl = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.UseArtGrid(context.Amqp, messageData));
        await busControl.StartAsync(cancellationToken);
        try
        {
            // Sent as artgrid submit sends: to the priority queue's exchange, declared as the silos declare it.
            Uri scoreQueue = await ScoreQueue.DeclareAsync(context.Amqp, context.Cluster.QueueName, cancellationToken);
            IRequestClient<ScoreImages> client = busControl.CreateRequestClient<ScoreImages>(scoreQueue, RequestTimeout.After(m: 10));

            // The silos' first jobs pay for their warm-up (JIT, the first batch, each decode worker's first image), which
            // the embedded command pays before its first result: the repository's samples go through the bus first.
            List<string> warmUp = [.. Directory.EnumerateFiles(Path.Combine(PhotoMix.RepositoryRoot(), "samples"), "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
            PathRun warm = await RunBusAsync(context, client, messageData, warmUp, cancellationToken, warmingUp: true);
            Progress.Say($"warm-up: {warm.Images} samples through the bus in {warm.WallSeconds:0.0} s");

            var embedded = new List<PathRun>();
            var bus = new List<PathRun>();
            for (int round = 0; round < rounds; round++)
            {
                bool busFirst = round % 2 == 1;
                foreach (bool onBus in busFirst ? new[] { true, false } : [false, true])
                {
                    PathRun run = onBus
                        ? await RunBusAsync(context, client, messageData, chunks[round], cancellationToken)
                        : WithoutStartUp(
                            await RunEmbeddedAsync(context, cliDll, chunks[round], cancellationToken),
                            await RunEmbeddedAsync(context, cliDll, chunks[round][..1], cancellationToken));
                    (onBus ? bus : embedded).Add(run);
                    Progress.Say($"round {round + 1} {run.Path}: {run.Images} images, {run.Rate:0.0} images/s ({run.WallRate:0.0} over {run.WallSeconds:0.0} s, start-up included), {run.Failed} failed, decode workers {run.DecodeWorkers}");
                }
            }

            return Report(context, embedded, bus);
        }
        finally
        {
            await busControl.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The embedded run less the command line's start-up, measured by scoring one image of the round alone right after:
    /// its wall time and CPU come off the run's, and its image off the count.
    /// </summary>
    private static PathRun WithoutStartUp(PathRun run, PathRun startUp)
    {
        var cpu = new Dictionary<string, double>(run.CpuSeconds);
        foreach (string group in PathGroups["embedded"])
        {
            cpu[group] = Math.Max(0, cpu[group] - startUp.CpuSeconds[group]);
        }

        cpu["cli start-up"] = PathGroups["embedded"].Sum(g => startUp.CpuSeconds[g]);
        return run with { Images = run.Images - 1, Seconds = Math.Max(0.001, run.WallSeconds - startUp.WallSeconds), CpuSeconds = cpu, Failed = run.Failed + startUp.Failed };
    }

    private static IReadOnlyDictionary<string, double> Report(QueueBenchContext context, List<PathRun> embedded, List<PathRun> bus)
    {
        Spread ratio = Spread.OfRatios([.. bus.Select(r => r.Rate)], [.. embedded.Select(r => r.Rate)]);
        Spread wallRatio = Spread.OfRatios([.. bus.Select(r => r.WallRate)], [.. embedded.Select(r => r.WallRate)]);
        Spread busRate = Spread.Of(bus.Select(r => r.Rate));
        Spread embeddedRate = Spread.Of(embedded.Select(r => r.Rate));
        Print(context, bus, embedded, ratio, wallRatio, busRate, embeddedRate);
        WriteRaw(context, bus, embedded);

        int failed = bus.Sum(r => r.Failed) + embedded.Sum(r => r.Failed);
        if (failed > 0)
        {
            Progress.Say($"bus vs embedded: {failed} images failed (see {Path.Combine(context.OutDir, "bus-vs-embedded.json")})");
        }

        return new Dictionary<string, double>
        {
            ["bus_vs_embedded"] = ratio.Median,
            ["bus_images_per_s"] = busRate.Median,
            ["embedded_images_per_s"] = embeddedRate.Median,
            // CPU per image over every process of the path: on a machine that others share it says what the path costs
            // when images/s says how much of the machine it got.
            ["bus_cpu_ms_per_image"] = PathCpuMsPerImage(bus),
            ["embedded_cpu_ms_per_image"] = PathCpuMsPerImage(embedded),
            ["uncached_failed_images"] = failed,
        };
    }

    /// <summary>
    /// One path's run over a round's images: how many it counts, its timings and what each process spent. For the
    /// embedded path, the command line's start-up (a one-image run of the same round) is taken off its time and its
    /// CPU, and that image off its count.
    /// </summary>
    private sealed record PathRun(
        string Path, int Images, int Failed, double WallSeconds, double Seconds, int DecodeWorkers, IReadOnlyDictionary<string, double> CpuSeconds)
    {
        /// <summary>Images per second of the work itself (embedded: without the command line's start-up).</summary>
        public double Rate => Images / Seconds;

        /// <summary>Images per second over the whole command (embedded: start-up included).</summary>
        public double WallRate => Images / WallSeconds;

        public double CpuMsPerImage(string group) => CpuSeconds.GetValueOrDefault(group) * 1000 / Images;

        public double TotalCpuMsPerImage => PathGroups[Path].Sum(CpuMsPerImage);
    }

    /// <summary>
    /// The round's images as ScoreImages requests, as <c>artgrid submit --wait</c> sends them: inline or claim-checked
    /// (<see cref="ImageData"/>), then the request, each awaited; what the silos, their workers, Redis, RabbitMQ and this process spent meanwhile.
    /// </summary>
    private static async Task<PathRun> RunBusAsync(
        QueueBenchContext context, IRequestClient<ScoreImages> client, IMessageDataRepository messageData, List<string> images, CancellationToken cancellationToken, bool warmingUp = false)
    {
        ProcessCpu.Snapshot before = ProcessCpu.Read(context);
        TimeSpan selfBefore = CpuTime.Self;
        using var inFlight = new SemaphoreSlim(InFlight);
        using var uploads = new SemaphoreSlim(Uploads);
        var clock = Stopwatch.StartNew();
        string runId = Guid.NewGuid().ToString("N")[..12];
        int failed = 0;
        void Failed(string problem)
        {
            if (Interlocked.Increment(ref failed) == 1)
            {
                Progress.Say($"bus: the first failed image: {problem}");
            }
        }

        await Task.WhenAll(images.Select(async (path, i) =>
        {
            await inFlight.WaitAsync(cancellationToken);
            try
            {
                ScoreImages command;
                await uploads.WaitAsync(cancellationToken);
                try
                {
                    command = new ScoreImages
                    {
                        JobId = $"bve-{runId}-{i}",
                        Images = [new ImageReference { Name = Path.GetFileName(path), Data = await new ImageData(messageData).OfAsync(await File.ReadAllBytesAsync(path, cancellationToken), cancellationToken) }],
                        SubmittedAt = DateTimeOffset.UtcNow,
                    };
                }
                finally
                {
                    uploads.Release();
                }

                Response<ImagesScored, ScoreImagesRejected> response = await client.GetResponse<ImagesScored, ScoreImagesRejected>(command, cancellationToken);
                string? problem = response.Message switch
                {
                    ImagesScored { Verdict.Images: [{ Error: null, Cached: false }] } => null,
                    ImagesScored { Verdict.Images: [{ Error: null }] } when warmingUp => null,
                    ImagesScored { Verdict.Images: [{ Error: { } error }] } => $"{error.Code}: {error.Message}",
                    ImagesScored { Verdict.Images: [{ Cached: true }] } => "answered from the cache: the image was not new",
                    ScoreImagesRejected rejected => $"rejected {rejected.Code}: {rejected.Reason}",
                    _ => "the answer is not one image's verdict",
                };
                if (problem is not null)
                {
                    Failed(problem);
                }
            }
            catch (Exception ex) when (ex is RequestTimeoutException or RequestFaultException)
            {
                Failed($"{ex.GetType().Name}: {ex.Message}");
            }
            finally
            {
                inFlight.Release();
            }
        }));
        double wall = clock.Elapsed.TotalSeconds;
        ProcessCpu.Snapshot after = ProcessCpu.Read(context);
        Dictionary<string, double> cpu = ProcessCpu.Difference(before, after);
        cpu["bench (bus client)"] = (CpuTime.Self - selfBefore).TotalSeconds;
        cpu["rest of machine"] = Math.Max(0, cpu["rest of machine"] - cpu["bench (bus client)"]);
        return new PathRun("bus", images.Count, failed, wall, wall, after.SiloDecodeWorkers, cpu);
    }

    /// <summary>
    /// <c>artgrid score FILE...</c> over the round's images, each result line timed as it comes; what the command line,
    /// its decode workers and the (idle) silos spent meanwhile.
    /// </summary>
    private static async Task<PathRun> RunEmbeddedAsync(QueueBenchContext context, string cliDll, List<string> images, CancellationToken cancellationToken)
    {
        string[] arguments = ["score", .. images];
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = System.IO.Path.GetDirectoryName(cliDll)!,
        };
        start.ArgumentList.Add(cliDll);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        ProcessCpu.Snapshot before = ProcessCpu.Read(context);
        TimeSpan exitedBefore = CpuTime.ExitedChildren;
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start) ?? throw new SetupException($"could not start {cliDll}");
        var lines = new List<(double Seconds, string Line)>();
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lock (lines)
                {
                    lines.Add((clock.Elapsed.TotalSeconds, line));
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // The command line's decode workers are its children: their CPU is read while they live (they go with it).
        double cliWorkersCpu = 0;
        int decodeWorkers = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RunTimeout);
        Task exited = process.WaitForExitAsync(timeout.Token);
        try
        {
            while (!exited.IsCompleted)
            {
                await Task.WhenAny(exited, Task.Delay(200, timeout.Token));
                if (!process.HasExited)
                {
                    (double seconds, int count) = ProcessCpu.DescendantsCpu(process.Id);
                    cliWorkersCpu = Math.Max(cliWorkersCpu, seconds);
                    decodeWorkers = Math.Max(decodeWorkers, count);
                }
            }

            await exited;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new SetupException($"artgrid {arguments[0]} did not finish within {RunTimeout.TotalMinutes:0} minutes; its stderr:\n{errors}");
        }

        process.WaitForExit();
        double wall = clock.Elapsed.TotalSeconds;
        ProcessCpu.Snapshot after = ProcessCpu.Read(context);
        double cliTree = (CpuTime.ExitedChildren - exitedBefore).TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new SetupException($"artgrid {arguments[0]} exited {process.ExitCode}; its stderr:\n{errors}");
        }

        List<(double Seconds, string Line)> results;
        lock (lines)
        {
            results = [.. lines.Where(l => l.Line.StartsWith('{'))];
        }

        if (results.Count != images.Count)
        {
            throw new SetupException($"artgrid {arguments[0]} printed {results.Count} result lines for {images.Count} images; its stderr:\n{errors}");
        }

        int failed = results.Count(r => !r.Line.Contains("\"error\":null", StringComparison.Ordinal));
        Dictionary<string, double> cpu = ProcessCpu.Difference(before, after);
        cpu["cli decode workers"] = cliWorkersCpu;
        cpu["cli"] = Math.Max(0, cliTree - cliWorkersCpu);
        cpu["bench (bus client)"] = 0;
        cpu["rest of machine"] = Math.Max(0, cpu["rest of machine"] - cliTree);
        return new PathRun("embedded", images.Count, failed, wall, wall, decodeWorkers, cpu);
    }

    private static void Print(
        QueueBenchContext context, List<PathRun> bus, List<PathRun> embedded, Spread ratio, Spread wallRatio, Spread busRate, Spread embeddedRate)
    {
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Uncached images: bus ({context.Silos} silos, ScoreImages requests as artgrid submit --wait sends them) against embedded (artgrid score), {bus.Count} paired rounds, {context.Images.Count} images");
        text.AppendLine("| round | embedded images/s | bus images/s | bus / embedded | embedded s (without / with start-up) | bus s | decode workers embedded / bus |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        for (int r = 0; r < bus.Count; r++)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r + 1} | {embedded[r].Rate:0.0} | {bus[r].Rate:0.0} | {bus[r].Rate / embedded[r].Rate:0.00} | {embedded[r].Seconds:0.0} / {embedded[r].WallSeconds:0.0} | {bus[r].WallSeconds:0.0} | {embedded[r].DecodeWorkers} / {bus[r].DecodeWorkers} |");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"bus / embedded: {ratio} (median [range] of the rounds; with the embedded command's start-up: {wallRatio}); bus {busRate} images/s, embedded {embeddedRate} images/s");
        text.AppendLine();
        text.AppendLine("CPU ms per image (all rounds; utime + stime from /proc). A path's total counts its own processes: not the command line's start-up, the idle other path or the rest of the machine:");
        text.AppendLine("| process | embedded | bus |");
        text.AppendLine("|---|---|---|");
        foreach (string group in Groups)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {group} | {Mean(embedded, group):0.0} | {Mean(bus, group):0.0} |");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"| **all of the path's processes** | {PathCpuMsPerImage(embedded):0.0} | {PathCpuMsPerImage(bus):0.0} |");
        Console.Write(text.ToString());
    }

    private static double PathCpuMsPerImage(List<PathRun> runs) => runs.Sum(r => r.TotalCpuMsPerImage * r.Images) / runs.Sum(r => r.Images);

    private static double Mean(List<PathRun> runs, string group) =>
        runs.Sum(r => r.CpuSeconds.GetValueOrDefault(group) * 1000) / runs.Sum(r => r.Images);

    private static void WriteRaw(QueueBenchContext context, List<PathRun> bus, List<PathRun> embedded)
    {
        Directory.CreateDirectory(context.OutDir);
        string json = Path.Combine(context.OutDir, "bus-vs-embedded.json");
        File.WriteAllText(json, JsonSerializer.Serialize(
            new
            {
                silos = context.Silos,
                siloSettings = QueueBench.SiloSettings(context.Silos),
                cores = Environment.ProcessorCount,
                rounds = embedded.Zip(bus, (e, b) => new { embedded = e, bus = b }),
            },
            new JsonSerializerOptions { WriteIndented = true }));
        Progress.Say($"raw numbers: {json}");
    }

    /// <summary>CPU time per process group, read from Linux's /proc (utime + stime of every live process).</summary>
    private static class ProcessCpu
    {
        private const double TicksPerSecond = 100;

        internal sealed record Snapshot(Dictionary<string, double> Seconds, double MachineBusySeconds, int SiloDecodeWorkers);

        private sealed record Proc(int Pid, int Parent, string CommandLine, double CpuSeconds);

        public static Snapshot Read(QueueBenchContext context)
        {
            Dictionary<int, Proc> all = All();
            var children = all.Values.GroupBy(p => p.Parent).ToDictionary(g => g.Key, g => g.Select(p => p.Pid).ToList());
            int self = Environment.ProcessId;
            string redisPort = context.Redis.Split(',')[0].Split(':')[^1];
            string rabbitPort = "RABBITMQ_NODE_PORT=" + (context.Amqp.IsDefaultPort ? 5672 : context.Amqp.Port).ToString(CultureInfo.InvariantCulture);
            var seconds = Groups.ToDictionary(g => g, _ => 0.0);
            int siloWorkers = 0;

            foreach (int pid in ProcessTree.Below(self, children))
            {
                if (all[pid].CommandLine.Contains("artgrid-silo.dll", StringComparison.Ordinal))
                {
                    seconds["silo"] += all[pid].CpuSeconds;
                    foreach (int worker in ProcessTree.Below(pid, children))
                    {
                        seconds["silo decode workers"] += all[worker].CpuSeconds;
                        siloWorkers += all[worker].CommandLine.Contains("artgrid-decode-worker", StringComparison.Ordinal) ? 1 : 0;
                    }
                }
            }

            foreach (Proc p in all.Values)
            {
                if (p.CommandLine.StartsWith("redis-server", StringComparison.Ordinal) && p.CommandLine.Contains(":" + redisPort, StringComparison.Ordinal))
                {
                    seconds["redis"] += p.CpuSeconds;
                }
                else if (p.CommandLine.Contains("beam.smp", StringComparison.Ordinal) && Environ(p.Pid).Contains(rabbitPort))
                {
                    seconds["rabbitmq"] += p.CpuSeconds + ProcessTree.Below(p.Pid, children).Sum(c => all[c].CpuSeconds);
                }
            }

            return new Snapshot(seconds, MachineBusySeconds(), siloWorkers);
        }

        /// <summary>What each group spent between the two snapshots; "rest of machine" is every core's busy time less the groups'.</summary>
        public static Dictionary<string, double> Difference(Snapshot before, Snapshot after)
        {
            var spent = Groups.ToDictionary(g => g, g => Math.Max(0, after.Seconds[g] - before.Seconds[g]));
            spent["rest of machine"] = Math.Max(0, after.MachineBusySeconds - before.MachineBusySeconds - spent.Values.Sum());
            return spent;
        }

        /// <summary>The CPU seconds of every live descendant of <paramref name="root"/>, and how many of them are decode workers.</summary>
        public static (double Seconds, int DecodeWorkers) DescendantsCpu(int root)
        {
            Dictionary<int, Proc> all = All();
            var children = all.Values.GroupBy(p => p.Parent).ToDictionary(g => g.Key, g => g.Select(p => p.Pid).ToList());
            List<int> below = ProcessTree.Below(root, children);
            return (below.Sum(p => all[p].CpuSeconds), below.Count(p => all[p].CommandLine.Contains("artgrid-decode-worker", StringComparison.Ordinal)));
        }

        /// <summary>A process's environment (deploy/servers.sh names the broker's port there, not on its command line).</summary>
        private static string[] Environ(int pid)
        {
            try
            {
                return File.ReadAllText($"/proc/{pid}/environ").Split('\0');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return [];
            }
        }

        private static Dictionary<int, Proc> All()
        {
            var all = new Dictionary<int, Proc>();
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    continue;
                }

                try
                {
                    // "pid (comm) state ppid ... utime stime": comm may hold spaces, so read after the last ')'.
                    string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    long ticks = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
                    string commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                    all[pid] = new Proc(pid, int.Parse(rest[1], CultureInfo.InvariantCulture), commandLine, ticks / TicksPerSecond);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
                {
                    // gone meanwhile
                }
            }

            return all;
        }

        /// <summary>Busy time of every core so far (/proc/stat's first line, less idle and iowait), in seconds.</summary>
        private static double MachineBusySeconds()
        {
            string[] fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long[] values = [.. fields.Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture))];
            return (values.Sum() - values[3] - values[4]) / TicksPerSecond;
        }
    }
}
