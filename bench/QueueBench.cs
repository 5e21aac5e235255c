using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ArtGrid.Bench;

/// <summary>What every part of <c>artgrid-bench queue</c> is handed.</summary>
/// <param name="Cluster">This run's cluster id, queue (<see cref="BenchCluster.QueueName"/>) and silos.</param>
/// <param name="SiloDll">The silo's Release build output.</param>
/// <param name="CliDll">The artgrid command line's Release build output (<c>artgrid score</c>, <c>artgrid submit</c>).</param>
/// <param name="Redis">This run's Redis (StackExchange.Redis connection string).</param>
/// <param name="Amqp">This run's RabbitMQ.</param>
/// <param name="Images">Distinct image files made for this run; none scored before the first part.</param>
/// <param name="OutDir">Where raw numbers go (bench-results/ or --out); never a tracked folder.</param>
/// <param name="Quick">--quick: each part keeps to a minute or two on two shared cores.</param>
/// <param name="Silos">How many silos the cluster runs (<see cref="QueueBench.EnsureSilosAsync"/>).</param>
internal sealed record QueueBenchContext(
    BenchCluster Cluster,
    string SiloDll,
    string CliDll,
    string Redis,
    Uri Amqp,
    IReadOnlyList<string> Images,
    string OutDir,
    bool Quick,
    int Silos,
    IReadOnlyDictionary<string, string> SiloSettings);

/// <summary>One part of the queue bench: its name for --parts, and what it runs; it returns its figures for the last line.</summary>
internal sealed record QueuePart(string Name, Func<QueueBenchContext, CancellationToken, Task<IReadOnlyDictionary<string, double>>> RunAsync);

/// <summary>
/// <c>artgrid-bench queue</c>: ArtGrid at queue scale, every figure a ratio of two things measured in the same run on the
/// same machine and broker. It starts Redis and RabbitMQ of its own (deploy/servers.sh on free ports), builds the silo
/// and the command line when their outputs are older than the sources, makes images no cache has seen, and runs its parts
/// in order: the uncached bus path against embedded scoring first (on an empty result cache), then cached jobs against
/// raw MassTransit round trips over the same images, then priorities, then JPEG decoding against djpeg. Everything it
/// started is stopped, however the run ends. Each part prints its table; the last line gathers their figures.
/// </summary>
internal static class QueueBench
{
    /// <summary>The parts, in the order they run: the uncached part needs a result cache that has seen none of the images.</summary>
    public static readonly IReadOnlyList<QueuePart> Parts =
    [
        new("uncached", BusVsEmbeddedBench.RunAsync),
        new("cached", CachedJobsBench.RunAsync),
        new("priority", PriorityOvertakeBench.RunAsync),
        new("jpeg", JpegVsDjpegBench.RunAsync),
    ];

    /// <summary>
    /// The settings every silo of the run gets on top of the bench defaults of <see cref="BenchCluster"/>: what an operator
    /// would set for silos sharing this machine, as deploy/local-cluster.sh does: each silo's share of the cores
    /// (ArtGrid:Silo:Cores, the cores divided by the silos), from which it sizes its decode workers and ONNX Runtime
    /// threads (the bench default of one ONNX Runtime thread is lifted, so that the share decides).
    /// </summary>
    public static IReadOnlyDictionary<string, string> SiloSettings(int silos) => new Dictionary<string, string>
    {
        ["ArtGrid__Silo__Cores"] = ChildProcess.Text(Math.Max(1, Environment.ProcessorCount / silos)),
        ["ArtGrid__Inference__IntraOpThreads"] = "0",
    };

    public static async Task<int> RunAsync(string[] args)
    {
        QueueBenchSettings settings;
        try
        {
            settings = QueueBenchSettings.Parse(args);
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"artgrid-bench queue: {ex.Message} (see artgrid-bench without arguments)");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            Progress.Say($"{context.Signal}: stopping the silos and the servers");
            stop.Cancel();
        }

        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();
        try
        {
            return await RunAsync(settings, stop.Token);
        }
        catch (SetupException ex)
        {
            Console.Error.WriteLine($"artgrid-bench queue: {ex.Message}");
            return 3;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("artgrid-bench queue: stopped before the end");
            return 130;
        }
    }

    /// <summary>Starts <see cref="QueueBenchContext.Silos"/> silos with <see cref="SiloSettings(int)"/> unless they already run.</summary>
    public static async Task EnsureSilosAsync(QueueBenchContext context, CancellationToken cancellationToken)
    {
        if (context.Cluster.Silos.Count < context.Silos)
        {
            var settings = new Dictionary<string, string>(SiloSettings(context.Silos));
            foreach ((string name, string value) in context.SiloSettings)
            {
                settings[name] = value;
            }

            await context.Cluster.StartSilosAsync(context.SiloDll, context.Silos - context.Cluster.Silos.Count, cancellationToken, settings);
        }
    }

    private static async Task<int> RunAsync(QueueBenchSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        string root = PhotoMix.RepositoryRoot();
        string runId = $"queue-{Guid.NewGuid().ToString("N")[..8]}";
        (string siloDll, string cliDll) = await BuildAsync(root, settings.Build, cancellationToken);

        await using QueueServers? servers = settings.Servers is null ? await QueueServers.StartAsync(root, cancellationToken) : null;
        (string redis, Uri amqp) = servers is null ? settings.Servers!.Value : (servers.Redis, servers.Amqp);
        await BenchCluster.CheckServersAsync(redis, amqp);

        string imageDir = Path.Combine(settings.Out, "queue-images", runId);
        IReadOnlyList<string> images = settings.ImageDir is { } given
            ? [.. Directory.EnumerateFiles(given).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).Take(settings.Images)]
            : BenchImages.WriteDistinct(runId, "q", settings.Images, imageDir);
        if (images.Count == 0)
        {
            throw new SetupException($"no .jpg, .jpeg or .png files in {settings.ImageDir}");
        }

        Progress.Say($"run {runId}: {settings.Silos} silos on {redis} and {amqp.Host}:{amqp.Port}; {images.Count} images; parts {string.Join(",", settings.Parts)}");
        var figures = new List<KeyValuePair<string, double>>();
        var failures = new List<string>();
        try
        {
            await using var cluster = new BenchCluster(runId, redis, amqp);
            var context = new QueueBenchContext(cluster, siloDll, cliDll, redis, amqp, images, settings.Out, settings.Quick, settings.Silos, settings.SiloSettings);
            foreach (QueuePart part in Parts.Where(p => settings.Parts.Contains(p.Name)))
            {
                Console.WriteLine();
                Progress.Say($"part {part.Name}");
                try
                {
                    figures.AddRange(await part.RunAsync(context, cancellationToken));
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not SetupException)
                {
                    // One part failing leaves the others' figures standing; the exit code says it failed.
                    failures.Add(part.Name);
                    Console.Error.WriteLine($"artgrid-bench queue: part {part.Name} failed: {ex}");
                }
            }
        }
        finally
        {
            if (settings.ImageDir is null && Directory.Exists(imageDir))
            {
                Directory.Delete(imageDir, recursive: true);
            }
        }

        Directory.CreateDirectory(settings.Out);
        string json = Path.Combine(settings.Out, "queue-bench.json");
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(
            new { run = runId, quick = settings.Quick, silos = settings.Silos, images = images.Count, seconds = clock.Elapsed.TotalSeconds, failed = failures, figures = figures.ToDictionary(f => f.Key, f => f.Value) },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }),
            CancellationToken.None);
        Progress.Say($"raw numbers: {json}; {clock.Elapsed.TotalMinutes:0.0} min in all");

        Console.WriteLine();
        Console.WriteLine(string.Join(" ", figures.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key}={Format(f.Value)}")))
            + (failures.Count > 0 ? $" failed_parts={string.Join(",", failures)}" : ""));
        return failures.Count == 0 ? 0 : 1;
    }

    private static string Format(double value) =>
        double.IsInteger(value) && Math.Abs(value) < 1e9 ? value.ToString("0", CultureInfo.InvariantCulture) : value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// The silo's and the command line's Release outputs, built first when missing or older than a source (a run measures
    /// the code in front of it, not an old build), unless --no-build.
    /// </summary>
    private static async Task<(string SiloDll, string CliDll)> BuildAsync(string root, bool build, CancellationToken cancellationToken)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string siloDll = Path.Combine(root, "src", "Silo", "bin", configuration, "net10.0", "artgrid-silo.dll");
        string cliDll = Path.Combine(root, "src", "Cli", "bin", configuration, "net10.0", "artgrid.dll");
        foreach ((string project, string dll) in new[] { ("src/Silo", siloDll), ("src/Cli", cliDll) })
        {
            if (build && Stale(root, dll))
            {
                Progress.Say($"building {project} ({configuration}): its output is missing or older than the sources");
                var start = new ProcessStartInfo("dotnet", ["build", project, "-c", configuration, "-nologo", "-v", "quiet"]) { WorkingDirectory = root, RedirectStandardOutput = true };
                using Process process = Process.Start(start) ?? throw new SetupException("could not run dotnet build");
                string output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
                await process.WaitForExitAsync(cancellationToken);
                if (process.ExitCode != 0)
                {
                    throw new SetupException($"dotnet build {project} failed:\n{output}");
                }
            }
            else if (!File.Exists(dll))
            {
                throw new SetupException($"{dll} is missing: build first (dotnet build ArtGrid.sln -c {configuration}).");
            }
        }

        return (siloDll, cliDll);
    }

    private static bool Stale(string root, string dll)
    {
        if (!File.Exists(dll))
        {
            return true;
        }

        DateTime built = Directory.EnumerateFiles(Path.GetDirectoryName(dll)!, "ArtGrid.*.dll").Append(dll).Max(File.GetLastWriteTimeUtc);
        return new[] { "src", Path.Combine("tests", "ArtGrid.Testing") }
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal)))
            .Concat(new[] { "Directory.Build.props", "Directory.Packages.props" }.Select(f => Path.Combine(root, f)).Where(File.Exists))
            .Any(f => File.GetLastWriteTimeUtc(f) > built);
    }
}

/// <summary>The options of <c>artgrid-bench queue</c>.</summary>
internal sealed record QueueBenchSettings(
    bool Quick, int Silos, int Images, string? ImageDir, IReadOnlySet<string> Parts, string Out, (string Redis, Uri Amqp)? Servers, bool Build,
    IReadOnlyDictionary<string, string> SiloSettings)
{
    public static QueueBenchSettings Parse(string[] args)
    {
        bool quick = args.Contains("--quick");
        string[] known = [.. QueueBench.Parts.Select(p => p.Name)];
        HashSet<string> parts = [.. (CommandLine.Option(args, "--parts") ?? string.Join(",", known)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        if (parts.FirstOrDefault(p => !known.Contains(p)) is { } unknown)
        {
            throw new FormatException($"--parts: no part named '{unknown}' (there are {string.Join(", ", known)})");
        }

        (string Redis, Uri Amqp)? servers = CommandLine.Option(args, "--redis") is not null || CommandLine.Option(args, "--amqp") is not null
            ? CommandLine.Servers(args)
            : null;
        string? imageDir = CommandLine.Option(args, "--image-dir");
        if (imageDir is not null && !Directory.Exists(imageDir))
        {
            throw new FormatException($"--image-dir: no folder {imageDir}");
        }

        return new QueueBenchSettings(
            quick,
            CommandLine.PositiveInt(args, "--silos", 2),
            CommandLine.PositiveInt(args, "--images", quick ? 160 : 600),
            imageDir,
            parts,
            CommandLine.Option(args, "--out") ?? Path.Combine(PhotoMix.RepositoryRoot(), "bench-results"),
            servers,
            !args.Contains("--no-build"),
            CommandLine.SiloSettings(args));
    }
}
