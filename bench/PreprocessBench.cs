using System.Diagnostics;
using ArtGrid.Imaging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Bench;

/// <summary>
/// Part 1: milliseconds per image to turn a photograph into the model's 224x224 input, per size class, one thread:
/// ArtGrid's real path (<see cref="ImagePreprocessor.Prepare"/>: checks, Skia decode, orientation, watermark pass,
/// resize, pack) against Debian's libvips (<c>vipsthumbnail -s 224x224!</c>, which shrinks JPEGs while decoding) and
/// libjpeg-turbo (<c>djpeg -scale M/8</c>, the smallest DCT scale that keeps 224 pixels, no final resample).
/// The tools are processes: vipsthumbnail runs once per size class over many files, djpeg once per file, and the
/// process start-up (the same tool on an 8x8 JPEG, measured in the same round) is subtracted from every invocation.
/// libvips runs with one thread (VIPS_CONCURRENCY=1) and its operation cache off, so that a repeated file is decoded again.
/// Times are CPU-ms per image (this process's CPU time for ArtGrid, the tool processes' own for the tools), with wall-ms
/// beside them: on a machine shared with other work, the CPU time of single-threaded work barely moves, while its wall
/// time follows the neighbours.
/// </summary>
internal sealed class PreprocessBench(IReadOnlyList<Photo> photos, ModelInputSpec spec, string scratch)
{
    public const string ArtGrid = "ArtGrid";
    public const string Vips = "libvips";
    public const string Djpeg = "libjpeg-turbo";
    public static readonly string[] Tools = [ArtGrid, Vips, Djpeg];

    // Decodes per file per round, by size class: about the same time per class.
    private static readonly Dictionary<string, int> Repeats = new() { ["0.3mp"] = 2, ["2mp"] = 1, ["12mp"] = 1, ["png"] = 1 };

    private readonly ImagePreprocessor _preprocessor = new(Options.Create(new PreprocessingOptions { MaxDegreeOfParallelism = 1 }));
    private readonly string _tiny = Path.Combine(scratch, "tiny.jpg");
    private readonly string _vipsOut = Path.Combine(scratch, "vips-out");

    /// <summary>Per tool and size class: CPU-ms and wall-ms per image (medians with ranges); ratios paired per round.</summary>
    public sealed record Result(
        Dictionary<string, Dictionary<string, Spread>> MsPerImage,
        Dictionary<string, Dictionary<string, Spread>> WallMsPerImage,
        Dictionary<string, Spread> VipsOverArtGrid,
        Dictionary<string, Spread> VipsOverArtGridWall,
        Spread DecodeVsLibvips,
        Spread DecodeVsLibvipsWall,
        Spread DjpegOverArtGridJpeg,
        Spread VipsStartupMs,
        Spread DjpegStartupMs,
        Dictionary<string, double[]> Rounds);

    /// <summary>One tool's pass over the mix: ms per image by size class, CPU and wall.</summary>
    private sealed record Sample(Dictionary<string, double> Cpu, Dictionary<string, double> Wall, double StartupCpuMs = 0);

    public static bool ToolsPresent(out string? missing)
    {
        missing = new[] { "vipsthumbnail", "djpeg", "vips" }.FirstOrDefault(t => !OnPath(t));
        return missing is null;
    }

    public async Task<Result> RunAsync(int rounds)
    {
        Directory.CreateDirectory(_vipsOut);
        await RunToolAsync("vips", ["black", _tiny, "8", "8"]);
        string[] classes = [.. PhotoMix.Classes.Where(c => photos.Any(p => p.SizeClass == c))];
        string[] jpegClasses = [.. classes.Where(c => photos.Where(p => p.SizeClass == c).All(p => p.IsJpeg))];

        // Untimed pass of each: JIT, page cache, the tools' shared libraries.
        _ = MeasureArtGrid(classes);
        _ = await MeasureVipsAsync(classes);
        _ = await MeasureDjpegAsync(jpegClasses);

        var samples = Tools.ToDictionary(t => t, _ => new List<Sample>());
        await Rounds.RunAsync(rounds,
        [
            () => Task.FromResult(Record(ArtGrid, MeasureArtGrid(classes))),
            async () => Record(Vips, await MeasureVipsAsync(classes)),
            async () => Record(Djpeg, await MeasureDjpegAsync(jpegClasses)),
        ],
        (round, _) => Progress.Say($"  preprocessing round {round + 1}/{rounds}: CPU-ms per pass over the mix: ArtGrid {Total(samples[ArtGrid][round].Cpu):0}, libvips {Total(samples[Vips][round].Cpu):0}"));

        var msPerImage = Tools.ToDictionary(t => t, t => Spreads(samples[t], s => s.Cpu));
        var wallPerImage = Tools.ToDictionary(t => t, t => Spreads(samples[t], s => s.Wall));
        var raw = new Dictionary<string, double[]>
        {
            ["artgrid_mix_cpu_ms"] = [.. samples[ArtGrid].Select(s => Total(s.Cpu))],
            ["vips_mix_cpu_ms"] = [.. samples[Vips].Select(s => Total(s.Cpu))],
            ["artgrid_mix_wall_ms"] = [.. samples[ArtGrid].Select(s => Total(s.Wall))],
            ["vips_mix_wall_ms"] = [.. samples[Vips].Select(s => Total(s.Wall))],
            ["vips_startup_cpu_ms"] = [.. samples[Vips].Select(s => s.StartupCpuMs)],
            ["djpeg_startup_cpu_ms"] = [.. samples[Djpeg].Select(s => s.StartupCpuMs)],
        };
        foreach (string tool in Tools)
        {
            foreach (string c in msPerImage[tool].Keys)
            {
                raw[$"{tool}_{c}_cpu_ms_per_image"] = [.. samples[tool].Select(s => s.Cpu[c])];
                raw[$"{tool}_{c}_wall_ms_per_image"] = [.. samples[tool].Select(s => s.Wall[c])];
            }
        }

        return new Result(
            msPerImage,
            wallPerImage,
            classes.ToDictionary(c => c, c => Ratio(s => s.Cpu[c])),
            classes.ToDictionary(c => c, c => Ratio(s => s.Wall[c])),
            Ratio(s => Total(s.Cpu)),
            Ratio(s => Total(s.Wall)),
            Spread.OfRatios([.. samples[Djpeg].Select(s => Total(s.Cpu))], [.. samples[ArtGrid].Select(s => Total(s.Cpu, jpegClasses))]),
            Spread.Of(samples[Vips].Select(s => s.StartupCpuMs)),
            Spread.Of(samples[Djpeg].Select(s => s.StartupCpuMs)),
            raw);

        double Record(string tool, Sample sample)
        {
            samples[tool].Add(sample);
            return Total(sample.Cpu);
        }

        Spread Ratio(Func<Sample, double> value) =>
            Spread.OfRatios([.. samples[Vips].Select(value)], [.. samples[ArtGrid].Select(value)]);
    }

    private static Dictionary<string, Spread> Spreads(List<Sample> samples, Func<Sample, Dictionary<string, double>> pick) =>
        pick(samples[0]).Keys.ToDictionary(c => c, c => Spread.Of(samples.Select(s => pick(s)[c])));

    /// <summary>Milliseconds to prepare each file of the mix (or of <paramref name="only"/> those classes) once.</summary>
    private double Total(Dictionary<string, double> msPerImage, string[]? only = null) =>
        msPerImage.Where(kv => only is null || only.Contains(kv.Key)).Sum(kv => kv.Value * photos.Count(p => p.SizeClass == kv.Key));

    private Sample MeasureArtGrid(string[] classes)
    {
        var cpu = new Dictionary<string, double>();
        var wall = new Dictionary<string, double>();
        foreach (string c in classes)
        {
            Photo[] files = [.. photos.Where(p => p.SizeClass == c)];
            int repeats = Repeats.GetValueOrDefault(c, 1);
            TimeSpan cpuStart = CpuTime.Self;
            long start = Stopwatch.GetTimestamp();
            for (int r = 0; r < repeats; r++)
            {
                foreach (Photo photo in files)
                {
                    PreparedImage prepared = _preprocessor.Prepare(photo.Bytes, spec);
                    if (prepared.Error is { } error)
                    {
                        throw new InvalidDataException($"{photo.Path}: {error.Code} {error.Message}");
                    }
                }
            }

            wall[c] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / (repeats * files.Length);
            cpu[c] = (CpuTime.Self - cpuStart).TotalMilliseconds / (repeats * files.Length);
        }

        return new Sample(cpu, wall);
    }

    private async Task<Sample> MeasureVipsAsync(string[] classes)
    {
        (double startupWall, double startupCpu) = await StartupAsync(() => RunVipsAsync([_tiny]));
        var cpu = new Dictionary<string, double>();
        var wall = new Dictionary<string, double>();
        foreach (string c in classes)
        {
            string[] files = [.. photos.Where(p => p.SizeClass == c).Select(p => p.Path)];
            int repeats = Repeats.GetValueOrDefault(c, 1);
            (double w, double u) = await RunVipsAsync([.. Enumerable.Repeat(files, repeats).SelectMany(f => f)]);
            wall[c] = Math.Max(0, w - startupWall) / (repeats * files.Length);
            cpu[c] = Math.Max(0, u - startupCpu) / (repeats * files.Length);
        }

        return new Sample(cpu, wall, startupCpu);
    }

    private async Task<Sample> MeasureDjpegAsync(string[] classes)
    {
        (double startupWall, double startupCpu) = await StartupAsync(() => RunToolAsync("djpeg", ["-outfile", "/dev/null", _tiny]));
        var cpu = new Dictionary<string, double>();
        var wall = new Dictionary<string, double>();
        foreach (string c in classes)
        {
            Photo[] files = [.. photos.Where(p => p.SizeClass == c)];
            int repeats = Repeats.GetValueOrDefault(c, 1);
            double totalWall = 0, totalCpu = 0;
            for (int r = 0; r < repeats; r++)
            {
                foreach (Photo photo in files)
                {
                    // The smallest M/8 that keeps the short side at 224 pixels or more.
                    int m = Math.Clamp((int)Math.Ceiling(8.0 * spec.Height / Math.Min(photo.Width, photo.Height)), 1, 8);
                    (double w, double u) = await RunToolAsync("djpeg", ["-scale", $"{m}/8", "-outfile", "/dev/null", photo.Path]);
                    totalWall += Math.Max(0, w - startupWall);
                    totalCpu += Math.Max(0, u - startupCpu);
                }
            }

            wall[c] = totalWall / (repeats * files.Length);
            cpu[c] = totalCpu / (repeats * files.Length);
        }

        return new Sample(cpu, wall, startupCpu);
    }

    // Wall and CPU ms of one invocation on an 8x8 JPEG: medians of five.
    private static async Task<(double Wall, double Cpu)> StartupAsync(Func<Task<(double Wall, double Cpu)>> run)
    {
        var times = new List<(double Wall, double Cpu)>();
        for (int i = 0; i < 5; i++)
        {
            times.Add(await run());
        }

        return (Stats.Median([.. times.Select(t => t.Wall).Order()]), Stats.Median([.. times.Select(t => t.Cpu).Order()]));
    }

    private Task<(double Wall, double Cpu)> RunVipsAsync(IReadOnlyList<string> files) =>
        RunToolAsync("vipsthumbnail", [.. files, "-s", $"{spec.Width}x{spec.Height}!", "-o", Path.Combine(_vipsOut, "%s.v"), "--vips-cache-max=0"]);

    // Wall and CPU milliseconds (the process's own, every thread) from start to exit.
    private static async Task<(double Wall, double Cpu)> RunToolAsync(string tool, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.Environment["VIPS_CONCURRENCY"] = "1";
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        TimeSpan cpuStart = CpuTime.ExitedChildren;
        long clock = Stopwatch.GetTimestamp();
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {tool}");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        double ms = Stopwatch.GetElapsedTime(clock).TotalMilliseconds;
        double cpu = (CpuTime.ExitedChildren - cpuStart).TotalMilliseconds;
        await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args.Take(6))} failed (exit {process.ExitCode}): {(await stderr).Trim()}");
        }

        return (ms, cpu);
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, tool)));
}
