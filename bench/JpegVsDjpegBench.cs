using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Bench;

/// <summary>
/// Full-size JPEG decoding against Debian's <c>djpeg</c> (libjpeg-turbo with its SIMD code) on the JPEGs of the photo mix
/// (0.3, 2 and 12 MP), one thread. Each round decodes every file of the mix once per side, the order rotating: ArtGrid's
/// default decoder (<see cref="IFrameDecoder.DecodeFirstFrame"/> at full size, into the pixel buffer the pipeline goes on
/// with), Skia (the decoder before TurboJpeg) and <c>djpeg -outfile /dev/null</c> as a process per file, its start-up (the
/// same command on an 8x8 JPEG, median of five, measured in the same round) subtracted. Times are CPU-ms per image: this
/// process's for the in-process decoders, the exited djpeg processes' own for djpeg. <c>jpeg_vs_djpeg</c> is djpeg's time
/// over ours for the whole mix (a speed ratio: 1 is as fast as djpeg), the median of the rounds' paired ratios.
/// </summary>
internal static class JpegVsDjpegBench
{
    public const string Ours = "ArtGrid";
    public const string Skia = "Skia";
    public const string Djpeg = "djpeg";
    private static readonly string[] Sides = [Ours, Skia, Djpeg];
    private static readonly string[] Classes = ["0.3mp", "2mp", "12mp"];

    // Decodes per file per round, by size class: the small files are repeated so that each class weighs about the same.
    private static readonly Dictionary<string, int> Repeats = new() { ["0.3mp"] = 4, ["2mp"] = 1, ["12mp"] = 1 };

    /// <summary><c>artgrid-bench jpeg [--photos DIR] [--rounds N] [--quick] [--out DIR]</c>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        string outDir = CommandLine.Option(args, "--out") ?? "bench-results";
        bool quick = args.Contains("--quick");
        int rounds = CommandLine.PositiveInt(args, "--rounds", quick ? 5 : 11);
        IReadOnlyDictionary<string, double> figures = await MeasureAsync(CommandLine.Option(args, "--photos"), outDir, rounds, CancellationToken.None);
        Console.WriteLine(string.Join(' ', figures.Select(kv => $"{kv.Key}={kv.Value.ToString("0.###", CultureInfo.InvariantCulture)}")));
        return 0;
    }

    /// <summary>The queue bench's part: needs no cluster; the photo mix under the run's output folder (built once).</summary>
    public static Task<IReadOnlyDictionary<string, double>> RunAsync(QueueBenchContext context, CancellationToken cancellationToken) =>
        MeasureAsync(photos: null, context.OutDir, context.Quick ? 5 : 11, cancellationToken);

    /// <summary>
    /// Prints the table, writes <c>jpeg-vs-djpeg.json</c> under <paramref name="outDir"/> and returns the figures:
    /// <c>jpeg_vs_djpeg</c> and per size class <c>jpeg_ms_*</c>, <c>skia_ms_*</c>, <c>djpeg_ms_*</c>. Without djpeg it says
    /// how to install it and returns ArtGrid's and Skia's figures only.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, double>> MeasureAsync(string? photos, string outDir, int rounds, CancellationToken cancellationToken)
    {
        var figures = new Dictionary<string, double>();
        string folder;
        try
        {
            folder = await PhotoMix.EnsureAsync(photos, Path.Combine(outDir, "photo-mix"));
        }
        catch (Exception ex) when (ex is InvalidOperationException or DirectoryNotFoundException)
        {
            Console.WriteLine($"jpeg: no photo mix ({ex.Message}); jpeg_vs_djpeg left out.");
            return figures;
        }

        Photo[] jpegs = [.. PhotoMix.Load(folder).Where(p => p.IsJpeg && Classes.Contains(p.SizeClass))];
        bool haveDjpeg = OnPath("djpeg");
        if (!haveDjpeg)
        {
            Console.WriteLine("jpeg: djpeg not found (apt-get install -y libjpeg-turbo-progs): jpeg_vs_djpeg left out, ArtGrid and Skia still measured.");
        }

        var options = new PreprocessingOptions { MaxDegreeOfParallelism = 1 };
        Configuration configuration = ImagePreprocessor.CreateConfiguration(options);
        IFrameDecoder ours = FrameDecoders.Create(options.Decoder, configuration, out string? problem);
        IFrameDecoder skia = FrameDecoders.Create(DecoderKind.Skia, configuration);
        if (problem is not null)
        {
            Console.WriteLine($"jpeg: the default decoder ({options.Decoder}) is not available, {ours.Kind} decodes: {problem}");
        }

        string scratch = Directory.CreateTempSubdirectory("artgrid-jpeg-").FullName;
        try
        {
            string tiny = Path.Combine(scratch, "tiny.jpg");
            using (var image = new Image<Rgb24>(8, 8))
            {
                await image.SaveAsJpegAsync(tiny, cancellationToken);
            }

            // Untimed pass of each: JIT, page cache, the shared libraries.
            _ = InProcess(ours, jpegs);
            _ = InProcess(skia, jpegs);
            if (haveDjpeg)
            {
                _ = await DjpegAsync(jpegs, tiny, cancellationToken);
            }

            var samples = Sides.ToDictionary(s => s, _ => new List<Dictionary<string, double>>());
            var startups = new List<double>();
            var measurements = new List<Func<Task<double>>>
            {
                () => Task.FromResult(Record(Ours, InProcess(ours, jpegs))),
                () => Task.FromResult(Record(Skia, InProcess(skia, jpegs))),
            };
            if (haveDjpeg)
            {
                measurements.Add(async () =>
                {
                    (Dictionary<string, double> ms, double startup) = await DjpegAsync(jpegs, tiny, cancellationToken);
                    startups.Add(startup);
                    return Record(Djpeg, ms);
                });
            }

            await Rounds.RunAsync(rounds, measurements, (round, totals) =>
                Progress.Say($"  jpeg round {round + 1}/{rounds}: CPU-ms per pass over the mix: {string.Join(", ", Sides.Take(totals.Length).Zip(totals, (s, t) => $"{s} {t:0}"))}"));

            string[] classes = [.. Classes.Where(c => jpegs.Any(p => p.SizeClass == c))];
            var table = new Table("JPEG, full size", "files", $"{Ours} ({ours.Kind}) ms", "Skia ms", "djpeg ms", "djpeg / ours", "Skia / ours");
            foreach (string c in classes)
            {
                Spread o = Spread.Of(samples[Ours].Select(s => s[c])), k = Spread.Of(samples[Skia].Select(s => s[c]));
                Spread d = haveDjpeg ? Spread.Of(samples[Djpeg].Select(s => s[c])) : default;
                table.Row(
                    $"{c} ({jpegs.Where(p => p.SizeClass == c).Average(p => p.Megapixels):0.0} MP)", jpegs.Count(p => p.SizeClass == c), o, k,
                    haveDjpeg ? d : double.NaN,
                    haveDjpeg ? Spread.OfRatios([.. samples[Djpeg].Select(s => s[c])], [.. samples[Ours].Select(s => s[c])]) : double.NaN,
                    Spread.OfRatios([.. samples[Skia].Select(s => s[c])], [.. samples[Ours].Select(s => s[c])]));
                figures[$"jpeg_ms_{Key(c)}"] = o.Median;
                figures[$"skia_ms_{Key(c)}"] = k.Median;
                if (haveDjpeg)
                {
                    figures[$"djpeg_ms_{Key(c)}"] = d.Median;
                }
            }

            double[] oursTotal = [.. samples[Ours].Select(s => Total(s, jpegs))];
            double[] skiaTotal = [.. samples[Skia].Select(s => Total(s, jpegs))];
            Spread skiaRatio = Spread.OfRatios(skiaTotal, oursTotal);
            Spread djpegRatio = haveDjpeg ? Spread.OfRatios([.. samples[Djpeg].Select(s => Total(s, jpegs))], oursTotal) : default;
            table.Row("mix (each file once)", jpegs.Length, Spread.Of(oursTotal), Spread.Of(skiaTotal),
                haveDjpeg ? Spread.Of(samples[Djpeg].Select(s => Total(s, jpegs))) : double.NaN, haveDjpeg ? djpegRatio : double.NaN, skiaRatio);
            table.Print($"Full-size JPEG decode, CPU-ms per image, one thread, median [range] of {rounds} rounds; ratios paired per round (djpeg start-up {(haveDjpeg ? Spread.Of(startups).ToString("0.0") : "n/a")} ms subtracted)");
            figures["jpeg_skia_over_ours"] = skiaRatio.Median;
            if (haveDjpeg)
            {
                figures["jpeg_vs_djpeg"] = djpegRatio.Median;
            }

            Directory.CreateDirectory(outDir);
            await File.WriteAllTextAsync(
                Path.Combine(outDir, "jpeg-vs-djpeg.json"),
                JsonSerializer.Serialize(new { decoder = ours.Kind.ToString(), rounds, files = jpegs.Select(p => new { p.Path, p.SizeClass, p.Width, p.Height }), ms_per_image = samples, djpeg_startup_ms = startups, figures }, new JsonSerializerOptions { WriteIndented = true }),
                cancellationToken);
            return figures;

            double Record(string side, Dictionary<string, double> ms)
            {
                samples[side].Add(ms);
                return Total(ms, jpegs);
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static string Key(string sizeClass) => sizeClass.Replace(".", "", StringComparison.Ordinal);

    /// <summary>Milliseconds to decode each file of the mix once.</summary>
    private static double Total(Dictionary<string, double> msPerImage, Photo[] jpegs) =>
        msPerImage.Sum(kv => kv.Value * jpegs.Count(p => p.SizeClass == kv.Key));

    /// <summary>CPU-ms per image by size class, decoding at full size in this process.</summary>
    private static Dictionary<string, double> InProcess(IFrameDecoder decoder, Photo[] jpegs)
    {
        var ms = new Dictionary<string, double>();
        foreach (IGrouping<string, Photo> group in jpegs.GroupBy(p => p.SizeClass))
        {
            int repeats = Repeats.GetValueOrDefault(group.Key, 1);
            TimeSpan start = CpuTime.Self;
            for (int r = 0; r < repeats; r++)
            {
                foreach (Photo photo in group)
                {
                    using Image<Rgba32> image = decoder.DecodeFirstFrame(photo.Bytes);
                    if (image.Width != photo.Width || image.Height != photo.Height)
                    {
                        throw new InvalidDataException($"{photo.Path}: decoded {image.Width}x{image.Height}, expected {photo.Width}x{photo.Height}");
                    }
                }
            }

            ms[group.Key] = (CpuTime.Self - start).TotalMilliseconds / (repeats * group.Count());
        }

        return ms;
    }

    /// <summary>CPU-ms per image by size class of <c>djpeg -outfile /dev/null FILE</c>, start-up subtracted; and the start-up.</summary>
    private static async Task<(Dictionary<string, double> Ms, double StartupMs)> DjpegAsync(Photo[] jpegs, string tiny, CancellationToken cancellationToken)
    {
        var startup = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            startup.Add(await RunDjpegAsync(tiny, cancellationToken));
        }

        double startupMs = Stats.Median([.. startup.Order()]);
        var ms = new Dictionary<string, double>();
        foreach (IGrouping<string, Photo> group in jpegs.GroupBy(p => p.SizeClass))
        {
            int repeats = Repeats.GetValueOrDefault(group.Key, 1);
            double total = 0;
            for (int r = 0; r < repeats; r++)
            {
                foreach (Photo photo in group)
                {
                    total += Math.Max(0, await RunDjpegAsync(photo.Path, cancellationToken) - startupMs);
                }
            }

            ms[group.Key] = total / (repeats * group.Count());
        }

        return (ms, startupMs);
    }

    // The CPU milliseconds (user and system) of one djpeg process, start to exit.
    private static async Task<double> RunDjpegAsync(string file, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("djpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "-outfile", "/dev/null", file })
        {
            start.ArgumentList.Add(arg);
        }

        TimeSpan cpuStart = CpuTime.ExitedChildren;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start djpeg");
        string stderr = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode == 0
            ? (CpuTime.ExitedChildren - cpuStart).TotalMilliseconds
            : throw new InvalidOperationException($"djpeg {file} failed (exit {process.ExitCode}): {stderr.Trim()}");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, tool)));
}
