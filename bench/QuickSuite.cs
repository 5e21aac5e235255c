using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ArtGrid.Grains.Models;
using ArtGrid.Hosting.Embedded;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ArtGrid.Bench;

/// <summary>
/// The performance suite: preprocessing per image against libvips and libjpeg-turbo, raw ONNX Runtime against the
/// inference grain, the embedded pipeline against the limit its parts set, and memory under load. Every ratio comes
/// from paired rounds of one run. Prints a table per part and ends with one line of name=value pairs.
/// </summary>
internal static class QuickSuite
{
    public static async Task<int> RunAsync(string[] args, bool quick)
    {
        var clock = Stopwatch.StartNew();
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        string root = PhotoMix.RepositoryRoot();
        string outDir = CommandLine.Option(args, "--out") ?? Path.Combine(root, "bench-results");
        // A run never changes tracked files: the plots go beside the raw numbers unless --update-docs asks to refresh the
        // documentation's copies (docs/benchmarks/) or --plots names a folder.
        string plotsDir = CommandLine.Option(args, "--plots")
            ?? (args.Contains("--update-docs") ? Path.Combine(root, "docs", "benchmarks") : Path.Combine(outDir, "plots"));
        string modelsPath = CommandLine.Option(args, "--models") ?? Path.Combine(AppContext.BaseDirectory, "models");
        string modelName = CommandLine.Option(args, "--model") ?? new InferenceOptions().Model;
        int rounds = int.Parse(CommandLine.Option(args, "--rounds") ?? (quick ? "5" : "9"), CultureInfo.InvariantCulture);
        double overloadSeconds = double.Parse(CommandLine.Option(args, "--overload-seconds") ?? (quick ? "12" : "60"), CultureInfo.InvariantCulture);
        bool skipMemory = args.Contains("--skip-memory");
        HashSet<int> parts = [.. (CommandLine.Option(args, "--parts") ?? "1,2,3,4").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
        if (skipMemory)
        {
            parts.Remove(4);
        }

        // Part 1 compares against Debian's tools; without them the other parts still run and print their figures.
        if (parts.Contains(1) && !PreprocessBench.ToolsPresent(out string? missing))
        {
            Console.Error.WriteLine($"{missing} not found: part 1 (preprocessing against libvips and libjpeg-turbo) is left out; the other parts run. "
                + "To include it: apt-get install -y libvips-tools libjpeg-turbo-progs.");
            parts.Remove(1);
        }

        Directory.CreateDirectory(outDir);
        string photosDir = await PhotoMix.EnsureAsync(CommandLine.Option(args, "--photos"), Path.Combine(outDir, "photo-mix"));
        List<Photo> photos = PhotoMix.Load(photosDir);
        LoadedModel model = new ModelRepository(modelsPath).Load(modelName);
        // The served settings, as the embedded cluster reads them: defaults, overridden by ArtGrid__Inference__* variables.
        var served = new InferenceOptions();
        new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection(InferenceOptions.SectionName).Bind(served);
        int servedBatch = served.MaxBatchSize;
        int servedThreads = served.EffectiveIntraOpThreads;
        DirectoryInfo scratch = Directory.CreateTempSubdirectory("artgrid-bench-");
        var summary = new Dictionary<string, double>();
        var json = new Dictionary<string, object?>();
        var csv = new StringBuilder("part,series,round,value\n");
        Console.WriteLine($"ArtGrid performance suite ({(quick ? "quick" : "full")}): {rounds} paired rounds per comparison, model {model.Id}");
        Console.WriteLine($"Machine: {CpuModel()}, {Environment.ProcessorCount} cores, {MemoryGiB():0.#} GiB; .NET {Environment.Version}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC");
        Console.WriteLine($"Served settings: MaxBatchSize {served.MaxBatchSize}, MaxQueueDelayMs {served.MaxQueueDelayMs}, IntraOpThreads {served.EffectiveIntraOpThreads}{(served.IntraOpThreads == 0 ? " (0: half the cores)" : "")}, QueueCapacity {served.QueueCapacity}");
        Console.WriteLine($"Photograph mix {Path.GetRelativePath(root, photosDir)}: {string.Join(", ", PhotoMix.Classes.Select(c => $"{photos.Count(p => p.SizeClass == c)} x {Describe(c, photos)}"))}");
        json["machine"] = new { cores = Environment.ProcessorCount, cpu = CpuModel(), memory_gib = MemoryGiB(), os = System.Runtime.InteropServices.RuntimeInformation.OSDescription, runtime = Environment.Version.ToString(), server_gc = System.Runtime.GCSettings.IsServerGC };
        json["photos"] = photos.Select(p => new { file = Path.GetFileName(p.Path), p.SizeClass, p.Width, p.Height, bytes = p.Bytes.Length });

        PreprocessBench.Result? pre = null;
        InferenceBench.Result? inference = null;
        PipelineBench.Result? pipeline = null;
        MemoryBench.Result? memory = null;
        try
        {
            // 1. Preprocessing per image.
            if (parts.Contains(1))
            {
                Progress.Say("Part 1: preprocessing per image, ArtGrid against libvips and libjpeg-turbo");
                pre = await new PreprocessBench(photos, model.Input, scratch.FullName).RunAsync(rounds);
                PrintPreprocessing(pre, photos);
                summary["decode_vs_libvips"] = pre.DecodeVsLibvips.Median;
                summary["decode_vs_libvips_wall"] = pre.DecodeVsLibvipsWall.Median;
                summary["artgrid_ms_per_image_mix"] = pre.MsPerImage[PreprocessBench.ArtGrid].Sum(kv => kv.Value.Median * photos.Count(p => p.SizeClass == kv.Key)) / photos.Count;
                json["preprocessing"] = pre;
                AddCsv(csv, "preprocessing", pre.Rounds);
            }

            // Ready-made tensors for inference: the 0.3 MP and 2 MP photographs, prepared as served.
            var preprocessor = new ImagePreprocessor(Options.Create(new PreprocessingOptions()));
            float[][] tensors = [.. photos.Where(p => p.SizeClass is "0.3mp" or "2mp").Select(p => preprocessor.Prepare(p.Bytes, model.Input).Tensor!)];

            // 2. Inference: raw ONNX Runtime against the grain.
            if (parts.Contains(2))
            {
                Progress.Say("Part 2: inference, raw ONNX Runtime against the inference grain");
                inference = await new InferenceBench(model, modelsPath, tensors).RunAsync(rounds, 32, servedBatch, servedThreads, cancel.Token);
                PrintInference(inference);
                InferenceBench.Row servedRow = inference.Rows.Single(r => r.BatchSize == servedBatch);
                summary["inference_ratio"] = servedRow.GrainOverRaw.Median;
                summary["grain_images_per_s"] = servedRow.Grain.Median;
                summary["raw_images_per_s"] = servedRow.RawServed.Median;
                json["inference"] = inference;
                AddCsv(csv, "inference", inference.Rounds);
            }

            // 3 and 4 share the embedded cluster, as artgrid score starts it.
            if (parts.Contains(3) || parts.Contains(4))
            {
                using var rawServed = new RawOrt(model, servedThreads, tensors);
                await using EmbeddedCluster cluster = await PipelineBench.StartAsync(modelsPath, model.Id, cancel.Token);
                if (parts.Contains(3))
                {
                    Progress.Say("Part 3: the embedded pipeline against the sum of its parts");
                    Photo[] pipelinePhotos = [.. photos.Where(p => p.SizeClass != "12mp")];
                    pipeline = await new PipelineBench(model, pipelinePhotos, rawServed, servedBatch, scratch.FullName).RunAsync(cluster, rounds, 2, cancel.Token);
                    PrintPipeline(pipeline, pipelinePhotos);
                    summary["pipeline_ratio"] = pipeline.Ratio.Median;
                    summary["t_pre_ms"] = pipeline.TPreMs.Median;
                    summary["t_infer_ms"] = pipeline.TInferMs.Median;
                    summary["p50_ms"] = pipeline.P50Ms;
                    summary["p99_ms"] = pipeline.P99Ms;
                    summary["p50_ms_1_inflight"] = pipeline.AloneP50Ms;
                    summary["pipeline_images_per_s"] = pipeline.PipelineImagesPerSecond.Median;
                    summary["limit_images_per_s"] = pipeline.LimitImagesPerSecond.Median;
                    summary["pipeline_mean_batch"] = pipeline.MeanBatch;
                    json["pipeline"] = pipeline;
                    AddCsv(csv, "pipeline", pipeline.Rounds);
                }

                if (parts.Contains(4))
                {
                    Progress.Say("Part 4: memory with 12 MP JPEGs");
                    memory = await new MemoryBench([.. photos.Where(p => p.SizeClass == "12mp")], scratch.FullName).RunAsync(cluster, quick ? 2 : 3, overloadSeconds, cancel.Token);
                    PrintMemory(memory);
                    summary["peak_rss_mib_overload"] = memory.PeakOverload.TotalBytes / 1048576.0;
                    summary["bytes_per_inflight"] = memory.BytesPerInFlight;
                    summary["bytes_per_inflight_rss_host"] = memory.BytesPerInFlightHost;
                    summary["bytes_per_inflight_rss_tree"] = memory.BytesPerInFlightTree;
                    json["memory"] = memory;
                    AddCsv(csv, "memory", memory.Rounds);
                }
            }

            List<string> plots = BenchPlots.Write(plotsDir, pre, inference, pipeline, memory);
            Console.WriteLine();
            Console.WriteLine($"Plots: {string.Join(", ", plots.Select(p => Path.Combine(Path.GetRelativePath(root, plotsDir), p)))}");
        }
        finally
        {
            scratch.Delete(recursive: true);
        }

        summary["elapsed_s"] = clock.Elapsed.TotalSeconds;
        string[] first = ["inference_ratio", "pipeline_ratio", "decode_vs_libvips", "t_pre_ms", "t_infer_ms", "p50_ms", "p99_ms", "peak_rss_mib_overload", "bytes_per_inflight"];
        (string Name, double Value)[] line = [.. first.Where(summary.ContainsKey).Concat(summary.Keys.Except(first)).Select(k => (k, summary[k]))];
        json["summary"] = summary;
        string stem = quick ? "bench-quick" : "bench-full";
        await File.WriteAllTextAsync(Path.Combine(outDir, stem + ".json"), JsonSerializer.Serialize(json, JsonOptions));
        await File.WriteAllTextAsync(Path.Combine(outDir, stem + "-rounds.csv"), csv.ToString());
        Console.WriteLine($"Raw numbers: {Path.Combine(Path.GetRelativePath(root, outDir), stem + ".json")}, {Path.Combine(Path.GetRelativePath(root, outDir), stem + "-rounds.csv")}; {clock.Elapsed.TotalMinutes:0.0} minutes in all");
        Console.WriteLine();
        Console.WriteLine(string.Join(' ', line.Select(s => $"{s.Name}={Number(s.Value)}")));
        return 0;
    }

    private static void PrintPreprocessing(PreprocessBench.Result pre, List<Photo> photos)
    {
        var table = new Table("size class", "files", "ArtGrid", "libvips", "libjpeg-turbo", "libvips / ArtGrid", "same, wall time");
        foreach (string c in PhotoMix.Classes.Where(pre.MsPerImage[PreprocessBench.ArtGrid].ContainsKey))
        {
            table.Row(Describe(c, photos), photos.Count(p => p.SizeClass == c),
                pre.MsPerImage[PreprocessBench.ArtGrid][c],
                pre.MsPerImage[PreprocessBench.Vips].TryGetValue(c, out Spread v) ? v : "n/a",
                pre.MsPerImage[PreprocessBench.Djpeg].TryGetValue(c, out Spread d) ? d : "n/a (JPEG only)",
                pre.VipsOverArtGrid[c],
                pre.VipsOverArtGridWall[c]);
        }

        table.Row("whole mix, each file once", photos.Count, "", "", "", pre.DecodeVsLibvips, pre.DecodeVsLibvipsWall);
        table.Print("1. Preprocessing to 224x224, one thread: CPU-ms per image, median [range] of rounds; ratios paired per round");
        Console.WriteLine("   ArtGrid: ImagePreprocessor.Prepare in process (checks, Skia decode, orientation, watermark pass, resize, tensor pack).");
        Console.WriteLine("   libvips: vipsthumbnail -s 224x224!, one process per size class over all its files, VIPS_CONCURRENCY=1, cache off.");
        Console.WriteLine("   libjpeg-turbo: djpeg -scale M/8 (smallest M keeping 224 px), one process per file, no final resample.");
        Console.WriteLine($"   Process start-up subtracted per invocation (same tool on an 8x8 JPEG, same round): vipsthumbnail {pre.VipsStartupMs.ToString("0.0")} CPU-ms, djpeg {pre.DjpegStartupMs.ToString("0.0")} CPU-ms.");
        Console.WriteLine($"   Wall-ms per image: ArtGrid {string.Join(", ", pre.WallMsPerImage[PreprocessBench.ArtGrid].Select(kv => $"{kv.Key} {kv.Value.Median:0.0}"))}; libvips {string.Join(", ", pre.WallMsPerImage[PreprocessBench.Vips].Select(kv => $"{kv.Key} {kv.Value.Median:0.0}"))}.");
        Console.WriteLine($"   decode_vs_libvips = libvips CPU time / ArtGrid CPU time over the whole mix: {pre.DecodeVsLibvips.ToString("0.000")}; libjpeg-turbo / ArtGrid over the JPEGs: {pre.DjpegOverArtGridJpeg.ToString("0.000")}");
    }

    private static void PrintInference(InferenceBench.Result inference)
    {
        var table = new Table("batch", $"raw, {Threads(0)}", $"raw, {Threads(inference.ServedThreads)}", $"grain, {Threads(inference.ServedThreads)}", "grain / raw", "raw served / every core", "mean grain batch");
        foreach (InferenceBench.Row row in inference.Rows)
        {
            table.Row(row.BatchSize == inference.ServedBatch ? $"{row.BatchSize} (served)" : row.BatchSize.ToString(CultureInfo.InvariantCulture),
                row.RawAllCores, row.RawServed, row.Grain, row.GrainOverRaw, row.ServedOverAllCores, row.MeanGrainBatch);
        }

        table.Print("2. Inference, images/s: median [range] of rounds; ratios paired per round");
        Console.WriteLine("   raw: ONNX Runtime on the served (pruned) graph with the served session options, a contiguous ready batch, pool + linear head.");
        Console.WriteLine("   grain: InferenceGrain.InferAsync through its DynamicBatcher in an in-process silo, 2 x batch requests in flight.");
        Console.WriteLine($"   inference_ratio = grain / raw at the served batch {inference.ServedBatch} and {Threads(inference.ServedThreads)}.");
    }

    private static void PrintPipeline(PipelineBench.Result pipeline, Photo[] photos)
    {
        int cores = Environment.ProcessorCount;
        var table = new Table("measure", "value");
        table.Row("pipeline, images/s", pipeline.PipelineImagesPerSecond)
            .Row("t_pre, machine-ms per image", pipeline.TPreMs)
            .Row("t_infer, machine-ms per image", pipeline.TInferMs)
            .Row($"t_pre, CPU-ms per image (x {cores} cores)", Scale(pipeline.TPreMs, cores))
            .Row($"t_infer, CPU-ms per image (x {cores} cores)", Scale(pipeline.TInferMs, cores))
            .Row("limit 1 / (t_pre + t_infer), images/s", pipeline.LimitImagesPerSecond)
            .Row("pipeline_ratio = pipeline / limit", pipeline.Ratio)
            .Row($"latency p50 / p90 / p99, ms ({PipelineBench.InFlight} in flight)", $"{pipeline.P50Ms:0} / {pipeline.P90Ms:0} / {pipeline.P99Ms:0}")
            .Row("latency p50 / p99, ms (1 in flight)", $"{pipeline.AloneP50Ms:0} / {pipeline.AloneP99Ms:0}")
            .Row("images failed", pipeline.Failed)
            .Row("pipeline CPU-ms per image (host + workers)", pipeline.PipelineCpuMsPerImage)
            .Row("  preprocessing alone / inference alone, CPU-ms", $"{pipeline.PreprocessCpuMsPerImage.Median:0.0} / {pipeline.InferCpuMsPerImage.Median:0.0}")
            .Row("cores busy during the pipeline", pipeline.BusyCores)
            .Row("inference batches in the pipeline: mean size", pipeline.MeanBatch)
            .Row("  sizes (size x batches)", string.Join(" ", pipeline.BatchSizes.Select(kv => $"{kv.Key}x{kv.Value}")));
        table.Print($"3. Embedded pipeline (EmbeddedCluster + EmbeddedScorer as artgrid score runs it, {PipelineBench.InFlight} in flight), {pipeline.ImagesPerRound} unique images per round ({string.Join(", ", photos.GroupBy(p => p.SizeClass).Select(g => $"{g.Count()} x {g.Key}"))}, x 2)");
        Console.WriteLine($"   t_pre: ImagePreprocessor.Prepare on the same files, {cores} in flight (one per core, one thread each, as the decode workers run).");
        Console.WriteLine("   t_infer: raw ONNX Runtime at the served batch and threads, cores / threads runs at once. Both with the whole machine on them: machine-ms;");
        Console.WriteLine($"   CPU-ms = {cores} x machine-ms, and the limit is {cores} / (cpu_pre + cpu_infer), the same number.");
        Console.WriteLine($"   Latency: each image's job, from the scorer's call to its verdict, over every round ({PipelineBench.InFlight} in flight: mostly");
        Console.WriteLine("   queueing, in-flight / throughput), and once more with one image at a time (one copy of the set).");
    }

    private static void PrintMemory(MemoryBench.Result memory)
    {
        var table = new Table("measure", "value");
        table.Row("live managed bytes per in-flight 12 MP image, host, MiB", memory.BytesPerInFlight / 1048576)
            .Row("  resident per in-flight image, host, MiB", memory.BytesPerInFlightHost / 1048576)
            .Row("  resident per in-flight image, host + workers, MiB", memory.BytesPerInFlightTree / 1048576)
            .Row("managed bytes allocated per 12 MP image (host), MiB", memory.AllocatedBytesPerImage / 1048576)
            .Row($"capacity, 12 MP images/s ({MemoryBench.ManyInFlight} in flight)", memory.CapacityImagesPerSecond)
            .Row("offered, images/s (open loop)", memory.OfferedPerSecond)
            .Row("offered for, s / images", $"{memory.OfferSeconds:0.0} / {memory.Offered}")
            .Row("resident before, MiB (host + workers)", memory.IdleRssBytes / 1048576.0)
            .Row("peak resident, MiB (host + workers)", memory.PeakOverload.TotalBytes / 1048576.0)
            .Row("  of which host / decode workers, MiB", $"{memory.PeakOverload.HostBytes / 1048576.0:0} / {memory.PeakOverload.ChildBytes / 1048576.0:0} ({memory.PeakOverload.Children} workers)")
            .Row("resident growth, 2nd half of offering, MiB/s", memory.RssSlopeSecondHalfMiBPerS)
            .Row("most images in the system at once", memory.MaxBacklog)
            .Row("drain after offering stopped, s", memory.DrainSeconds)
            .Row("failed in the in-flight runs", memory.InFlightRunFailures.Count == 0 ? "none" : string.Join(", ", memory.InFlightRunFailures.Select(o => $"{o.Key} {o.Value}")))
            .Row("overload outcomes", string.Join(", ", memory.Outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")));
        table.Print("4. Memory, 12 MP JPEGs through the embedded pipeline; resident memory summed over the host and its decode worker processes");
        Console.WriteLine($"   Per in-flight image: (level with {MemoryBench.ManyInFlight} in flight - level with 1) / {MemoryBench.ManyInFlight - 1}, medians of rounds. bytes_per_inflight is the live");
        Console.WriteLine("   managed bytes (after a full collection, a third and two thirds through the run): in-flight images beyond one per decode");
        Console.WriteLine("   worker wait in the host. Resident levels (median sample of the run's middle half) follow the collector's and the");
        Console.WriteLine("   workers' recycling more than the load, and are shown for comparison.");
        Console.WriteLine("   Overload: jobs offered open-loop at twice the capacity above for the time shown, then drained; sampled every 100 ms.");
    }

    private static Spread Scale(Spread s, double factor) => new(s.Median * factor, s.Min * factor, s.Max * factor);

    private static string Threads(int threads) => threads > 0 ? $"{threads} threads" : $"ORT default ({Environment.ProcessorCount})";

    private static string Describe(string sizeClass, List<Photo> photos)
    {
        Photo? first = photos.FirstOrDefault(p => p.SizeClass == sizeClass);
        return first is null ? sizeClass : $"{sizeClass} {(first.IsJpeg ? "JPEG" : "PNG")} {first.Width}x{first.Height}";
    }

    private static void AddCsv(StringBuilder csv, string part, Dictionary<string, double[]> rounds)
    {
        foreach ((string series, double[] values) in rounds)
        {
            for (int i = 0; i < values.Length; i++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{part},{series},{i + 1},{values[i].ToString("R", CultureInfo.InvariantCulture)}\n");
            }
        }
    }

    private static string Number(double value) =>
        !double.IsFinite(value) ? "nan"
        : Math.Abs(value) >= 1000 ? value.ToString("0", CultureInfo.InvariantCulture)
        : value.ToString("0.###", CultureInfo.InvariantCulture);

    public static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }

    private static double MemoryGiB()
    {
        try
        {
            string? line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            return line is null ? double.NaN : Math.Round(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1048576.0, 1);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        IncludeFields = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
