using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using ArtGrid.Imaging.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ArtGrid.Bench;

/// <summary>
/// Evidence for the decoder choice and the sandbox's cost, measured in one run:
/// 1. every file of a public decoder test corpus through each decoder (TurboJpeg, Skia, ImageSharp), in the sandbox (so that hangs and crashes are
///    counted, not suffered), against what the corpus says the file is;
/// 2. decode + orient + resize time per image for each decoder, in process, one thread;
/// 3. images/s through the sandbox against in-process decoding, same decoder, one request per core in flight;
/// 4. what the workers' confinement by the kernel costs: pool start-up, and images/s against Confinement=Off.
/// </summary>
internal static class DecoderBench
{
    private static readonly DecoderKind[] Decoders = [DecoderKind.TurboJpeg, DecoderKind.Skia, DecoderKind.ImageSharp];
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"];
    private static readonly ModelInputSpec Spec = new("input", 224, 224, TensorLayout.Nchw, ChannelOrder.Rgb, 1f, [0f, 0f, 0f], [1f, 1f, 1f]);

    public static async Task<int> RunAsync(string[] args)
    {
        string? corpus = CommandLine.Option(args, "--corpus");
        string images = CommandLine.Option(args, "--images") ?? "samples";
        int limit = int.Parse(CommandLine.Option(args, "--limit") ?? "400", CultureInfo.InvariantCulture);
        string outDir = CommandLine.Option(args, "--out") ?? "bench-results";
        if (!args.Contains("--skip-corpus") && (corpus is null || !File.Exists(Path.Combine(corpus, "manifest.csv"))))
        {
            Console.Error.WriteLine("--corpus DIR with a manifest.csv is required (bench/decoder-corpus/fetch-corpus.sh builds one).");
            return 2;
        }

        Directory.CreateDirectory(outDir);
        var summary = new List<string>();

        // 1. Correctness on the corpus.
        if (!args.Contains("--skip-corpus"))
        {
            List<CorpusFile> files = ReadManifest(corpus!);
            var outcomes = new Dictionary<DecoderKind, Outcome[]>();
            foreach (DecoderKind decoder in Decoders)
            {
                outcomes[decoder] = await RunCorpusAsync(decoder, corpus!, files);
            }

            PrintCorpusTable(files, outcomes, summary);

            // TurboJpeg hands every file it does not decode cleanly to Skia: its outcomes should be Skia's, file for file.
            int[] differing = [.. Enumerable.Range(0, files.Count).Where(i => outcomes[DecoderKind.TurboJpeg][i] != outcomes[DecoderKind.Skia][i])];
            Console.WriteLine($"TurboJpeg and Skia differ on {differing.Length} of {files.Count} files (outcome, error code or message)");
            foreach (int i in differing)
            {
                Console.WriteLine($"    {files[i].Path}: TurboJpeg {outcomes[DecoderKind.TurboJpeg][i].Code ?? "decoded"} {Shorten(outcomes[DecoderKind.TurboJpeg][i].Message)}; Skia {outcomes[DecoderKind.Skia][i].Code ?? "decoded"} {Shorten(outcomes[DecoderKind.Skia][i].Message)}");
            }

            summary.Add($"turbojpeg_differs_from_skia={differing.Length}");
            await WriteCorpusCsvAsync(Path.Combine(outDir, "decoders-corpus.csv"), files, outcomes);
        }

        // 2. Speed per image, in process, one thread.
        byte[][] mix = [.. Directory.EnumerateFiles(images, "*", SearchOption.AllDirectories)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .Take(limit)
            .Select(File.ReadAllBytes)];
        double megapixels = mix.Sum(b => Size(b)) / 1e6;
        int passes = Math.Max(1, (40 + mix.Length - 1) / mix.Length); // at least 40 decodes per row
        Console.WriteLine();
        Console.WriteLine($"Decode + orient + resize to 224x224, one thread, {mix.Length} images from {images} ({megapixels / mix.Length:0.00} MP mean), {passes} pass(es):");
        var perImageMs = new Dictionary<DecoderKind, double>();
        foreach (bool watermark in new[] { true, false })
        {
            foreach (DecoderKind decoder in Decoders)
            {
                var preprocessor = new ImagePreprocessor(Options.Create(new PreprocessingOptions { Decoder = decoder, MaxDegreeOfParallelism = 1, DetectWatermark = watermark }));
                _ = mix.Take(20).Select(b => preprocessor.Prepare(b, Spec)).Count(); // warm-up
                var clock = Stopwatch.StartNew();
                int failed = 0;
                for (int pass = 0; pass < passes; pass++)
                {
                    failed += mix.Count(b => preprocessor.Prepare(b, Spec).Error is not null);
                }

                double ms = clock.Elapsed.TotalMilliseconds / (mix.Length * passes);
                Console.WriteLine($"  {decoder,-10} {(watermark ? "with" : "without"),-7} watermark pass {ms,8:0.00} ms/image  {1000 / ms,7:0.0} images/s  ({failed} failed)");
                if (watermark)
                {
                    perImageMs[decoder] = ms;
                }
                else
                {
                    summary.Add(Pair($"decode_ms_{decoder.ToString().ToLowerInvariant()}_no_watermark", ms));
                }
            }
        }

        double speedup = perImageMs[DecoderKind.ImageSharp] / perImageMs[DecoderKind.Skia];
        Console.WriteLine($"  ImageSharp time over Skia time: {speedup:0.00}; Skia time over TurboJpeg time: {perImageMs[DecoderKind.Skia] / perImageMs[DecoderKind.TurboJpeg]:0.00}");
        summary.Add(Pair("decode_ms_turbojpeg", perImageMs[DecoderKind.TurboJpeg]));
        summary.Add(Pair("decode_ms_skia", perImageMs[DecoderKind.Skia]));
        summary.Add(Pair("decode_ms_imagesharp", perImageMs[DecoderKind.ImageSharp]));
        summary.Add(Pair("imagesharp_over_skia", speedup));

        if (args.Contains("--skip-sandbox"))
        {
            Console.WriteLine();
            Console.WriteLine(string.Join(' ', summary));
            return 0;
        }

        // 3. Sandbox cost: the same decoder in process and in workers, one request per core in flight (as the preprocess
        // grain runs them), after one untimed pass each. Rounds alternate, and the ratio of each pair is taken, so that a
        // noisy neighbour hurts both sides of a pair alike; the median pair is reported.
        int cores = Environment.ProcessorCount;
        const int rounds = 7;
        Console.WriteLine();
        Console.WriteLine($"Sandbox cost, Skia, {cores} requests in flight, {mix.Length} images, {rounds} alternating rounds:");
        var inProcess = new InProcessImagePreparer(new ImagePreprocessor(Options.Create(new PreprocessingOptions { Decoder = DecoderKind.Skia })));
        await using DecodeSandbox sandbox = CreateSandbox(DecoderKind.Skia, new DecodeSandboxOptions());
        await sandbox.StartAsync();
        (double medianInProcess, double medianSandboxed) = await PairedRoundsAsync(("in process", inProcess), ("sandboxed", sandbox), mix, cores, rounds);
        double ratio = medianSandboxed / medianInProcess;
        Console.WriteLine($"  median pair: in process {medianInProcess:0.0} images/s, sandboxed {medianSandboxed:0.0} images/s, ratio {ratio:0.000} ({sandbox.Restarts} workers recycled)");
        summary.Add(Pair("inprocess_images_per_s", medianInProcess));
        summary.Add(Pair("sandbox_images_per_s", medianSandboxed));
        summary.Add(Pair("sandbox_ratio", ratio));
        await ConfinementCostAsync(mix, cores, summary);

        Console.WriteLine();
        Console.WriteLine(string.Join(' ', summary));
        return 0;
    }

    // 4. What the kernel's confinement of the workers costs (WorkerConfinement: Landlock, a re-exec, seccomp): worker
    // start-up, and images/s against the same sandbox with Confinement=Off, in alternating rounds as above.
    private static async Task ConfinementCostAsync(byte[][] mix, int cores, List<string> summary)
    {
        const int rounds = 7;
        Console.WriteLine();
        Console.WriteLine($"Confinement cost, Skia, {cores} workers, {mix.Length} images, {rounds} alternating rounds:");
        var starts = new Dictionary<ConfinementMode, List<double>> { [ConfinementMode.Required] = [], [ConfinementMode.Off] = [] };
        for (int round = 0; round < 3; round++)
        {
            foreach (ConfinementMode mode in starts.Keys)
            {
                var clock = Stopwatch.StartNew();
                await using DecodeSandbox started = CreateSandbox(DecoderKind.Skia, new DecodeSandboxOptions { Confinement = mode });
                await started.StartAsync();
                starts[mode].Add(clock.Elapsed.TotalMilliseconds);
            }
        }

        double confinedStart = starts[ConfinementMode.Required].Order().ElementAt(1), offStart = starts[ConfinementMode.Off].Order().ElementAt(1);
        Console.WriteLine($"  pool start (median of 3): confined {confinedStart:0} ms, unconfined {offStart:0} ms");

        await using DecodeSandbox confined = CreateSandbox(DecoderKind.Skia, new DecodeSandboxOptions { Confinement = ConfinementMode.Required });
        await using DecodeSandbox unconfined = CreateSandbox(DecoderKind.Skia, new DecodeSandboxOptions { Confinement = ConfinementMode.Off });
        await confined.StartAsync();
        await unconfined.StartAsync();
        Console.WriteLine($"  {confined.Confinement}");
        (double medianOff, double medianConfined) = await PairedRoundsAsync(("unconfined", unconfined), ("confined", confined), mix, cores, rounds);
        Console.WriteLine($"  median pair: unconfined {medianOff:0.0} images/s, confined {medianConfined:0.0} images/s, ratio {medianConfined / medianOff:0.000}");
        summary.Add(Pair("confined_start_ms", confinedStart));
        summary.Add(Pair("unconfined_start_ms", offStart));
        summary.Add(Pair("confinement_ratio", medianConfined / medianOff));
    }

    private static async Task<Outcome[]> RunCorpusAsync(DecoderKind decoder, string corpus, List<CorpusFile> files)
    {
        await using DecodeSandbox sandbox = CreateSandbox(decoder, new DecodeSandboxOptions { Timeout = TimeSpan.FromSeconds(3), CrashRetries = 0 });
        await sandbox.StartAsync();
        return await Task.WhenAll(files.Select(async f =>
        {
            PreparedImage result = await sandbox.PrepareAsync(await File.ReadAllBytesAsync(Path.Combine(corpus, f.Path)), Spec);
            return new Outcome(Classify(result), result.Error?.Code, result.Error?.Message);
        }));
    }

    private static string Classify(PreparedImage result) => result.Error?.Code switch
    {
        null => "decoded",
        ErrorCodes.DecodeTimeout => "hang",
        ErrorCodes.DecoderCrashed => "crash",
        ErrorCodes.DecodeMemoryLimit => "memory",
        _ => "refused",
    };

    private static bool IsCorrect(string expected, string outcome) => expected switch
    {
        "decode" => outcome == "decoded",
        "reject" => outcome == "refused",
        _ => outcome is "decoded" or "refused",
    };

    private static void PrintCorpusTable(List<CorpusFile> files, Dictionary<DecoderKind, Outcome[]> outcomes, List<string> summary)
    {
        Console.WriteLine($"Decoder test corpus: {files.Count} files, in the sandbox (3 s deadline), through the full preprocessing checks.");
        Console.WriteLine($"{"decoder",-10} {"suite",-24} {"files",5} {"correct",7} {"valid refused",13} {"corrupt accepted",16} {"hangs",5} {"crashes",7} {"memory",6}");
        foreach (DecoderKind decoder in Decoders)
        {
            Outcome[] o = outcomes[decoder];
            foreach (IGrouping<string, int> suite in Enumerable.Range(0, files.Count).GroupBy(i => files[i].Suite).Append(null!))
            {
                int[] idx = suite is null ? [.. Enumerable.Range(0, files.Count)] : [.. suite];
                string name = suite?.Key ?? "ALL";
                int correct = idx.Count(i => IsCorrect(files[i].Expected, o[i].Kind));
                int validRefused = idx.Count(i => files[i].Expected == "decode" && o[i].Kind == "refused");
                int corruptAccepted = idx.Count(i => files[i].Expected == "reject" && o[i].Kind == "decoded");
                int hangs = idx.Count(i => o[i].Kind == "hang");
                int crashes = idx.Count(i => o[i].Kind == "crash");
                int memory = idx.Count(i => o[i].Kind == "memory");
                Console.WriteLine($"{decoder,-10} {name,-24} {idx.Length,5} {correct,7} {validRefused,13} {corruptAccepted,16} {hangs,5} {crashes,7} {memory,6}");
                if (suite is null)
                {
                    string key = decoder.ToString().ToLowerInvariant();
                    summary.Add($"{key}_correct={correct}/{idx.Length}");
                    summary.Add($"{key}_hangs={hangs}");
                    summary.Add($"{key}_crashes={crashes}");
                }
            }

            foreach (int i in Enumerable.Range(0, files.Count).Where(i => !IsCorrect(files[i].Expected, o[i].Kind)))
            {
                Console.WriteLine($"    {decoder}: {files[i].Path} ({files[i].Expected}): {o[i].Kind} {o[i].Code} {Shorten(o[i].Message)}");
            }
        }
    }

    private static async Task WriteCorpusCsvAsync(string path, List<CorpusFile> files, Dictionary<DecoderKind, Outcome[]> outcomes)
    {
        await using var writer = new StreamWriter(path);
        await writer.WriteLineAsync("path,suite,expected," + string.Join(',', Decoders.Select(d => d.ToString().ToLowerInvariant())));
        for (int i = 0; i < files.Count; i++)
        {
            await writer.WriteLineAsync($"{files[i].Path},{files[i].Suite},{files[i].Expected}," + string.Join(',', Decoders.Select(d => outcomes[d][i].Code ?? "decoded")));
        }
    }

    // One untimed pass each, then alternating rounds (first, second), so that a noisy neighbour hurts both sides of a
    // pair alike; returns the pair whose ratio second/first is the median.
    private static async Task<(double First, double Second)> PairedRoundsAsync(
        (string Name, IImagePreparer Preparer) first, (string Name, IImagePreparer Preparer) second, byte[][] mix, int cores, int rounds)
    {
        await ThroughputAsync(second.Preparer, mix, cores);
        await ThroughputAsync(first.Preparer, mix, cores);
        var pairs = new List<(double First, double Second)>();
        for (int round = 0; round < rounds; round++)
        {
            double a = await ThroughputAsync(first.Preparer, mix, cores);
            double b = await ThroughputAsync(second.Preparer, mix, cores);
            pairs.Add((a, b));
            Console.WriteLine($"  round {round + 1}: {first.Name} {a,6:0.0} images/s, {second.Name} {b,6:0.0} images/s, ratio {b / a:0.000}");
        }

        return pairs.OrderBy(p => p.Second / p.First).ElementAt(rounds / 2);
    }

    private static async Task<double> ThroughputAsync(IImagePreparer preparer, byte[][] images, int inFlight)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(images, new ParallelOptions { MaxDegreeOfParallelism = inFlight }, async (bytes, ct) => await preparer.PrepareAsync(bytes, Spec, cancellationToken: ct));
        return images.Length / clock.Elapsed.TotalSeconds;
    }

    private static DecodeSandbox CreateSandbox(DecoderKind decoder, DecodeSandboxOptions options)
    {
        IMeterFactory meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return new DecodeSandbox(Options.Create(options), Options.Create(new PreprocessingOptions { Decoder = decoder }), new DecodeInstruments(meters), NullLogger<DecodeSandbox>.Instance);
    }

    private static long Size(byte[] bytes)
    {
        try
        {
            SixLabors.ImageSharp.IImageInfo? info = SixLabors.ImageSharp.Image.Identify(bytes);
            return info is null ? 0 : (long)info.Width * info.Height;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return 0;
        }
    }

    private static List<CorpusFile> ReadManifest(string corpus) =>
        [.. File.ReadLines(Path.Combine(corpus, "manifest.csv")).Skip(1)
            .Where(l => l.Length > 0)
            .Select(l => l.Split(','))
            .Select(c => new CorpusFile(c[0], c[1], c[2]))];

    private static string Pair(string name, double value) => $"{name}={value.ToString("0.###", CultureInfo.InvariantCulture)}";

    private static string Shorten(string? message) => message is null ? "" : message.Length <= 100 ? message : message[..100] + "...";

    private sealed record CorpusFile(string Path, string Suite, string Expected);

    private sealed record Outcome(string Kind, string? Code, string? Message);
}
