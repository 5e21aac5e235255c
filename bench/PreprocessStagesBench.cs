using System.Diagnostics;
using System.Globalization;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using ArtGrid.Imaging.Provenance;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Bench;

/// <summary>
/// Preprocessing time per image on one thread, for performance work: the same files, one untimed pass, then timed
/// rounds. With --compare, two option sets alternate round by round and the median of the paired ratios is reported,
/// so that a noisy neighbour slows both sides of a pair alike. To compare two builds, run this command from each build
/// alternately and pair the medians.
/// </summary>
internal static class PreprocessStagesBench
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"];
    private static readonly ModelInputSpec Spec = new("input", 224, 224, TensorLayout.Nchw, ChannelOrder.Rgb, 1f, [0f, 0f, 0f], [1f, 1f, 1f]);

    public static int Run(string[] args)
    {
        string images = CommandLine.Option(args, "--images") ?? "samples";
        int rounds = int.Parse(CommandLine.Option(args, "--rounds") ?? "5", CultureInfo.InvariantCulture);
        var decoder = Enum.Parse<DecoderKind>(CommandLine.Option(args, "--decoder") ?? "Skia", ignoreCase: true);
        string? compare = CommandLine.Option(args, "--compare");
        byte[][] files = [.. Directory.EnumerateFiles(images, "*", SearchOption.AllDirectories)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes)];
        if (files.Length == 0)
        {
            Console.Error.WriteLine($"no images in {images}");
            return 2;
        }

        PreprocessingOptions Options(bool variant)
        {
            var options = new PreprocessingOptions
            {
                Decoder = decoder,
                MaxDegreeOfParallelism = 1,
                DetectWatermark = !args.Contains("--no-watermark"),
                ReducedJpegDecode = !args.Contains("--full-decode"),
            };
            if (variant)
            {
                switch (compare)
                {
                    case "watermark":
                        options.DetectWatermark = !options.DetectWatermark;
                        break;
                    case "reduced-decode":
                        options.ReducedJpegDecode = !options.ReducedJpegDecode;
                        break;
                    default:
                        throw new ArgumentException($"--compare {compare}: unknown option set (watermark, reduced-decode)");
                }
            }

            return options;
        }

        // At least 10 images per timed round, so that one round of a small folder is not a single timer tick.
        int passes = Math.Max(1, (10 + files.Length - 1) / files.Length);
        Console.WriteLine($"{files.Length} images from {images}, {decoder}, one thread, {rounds} rounds of {passes} pass(es)");
        if (args.Contains("--stages"))
        {
            Stages(files, decoder, rounds);
        }

        var a = new ImagePreprocessor(Microsoft.Extensions.Options.Options.Create(Options(false)));
        ImagePreprocessor? b = compare is null ? null : new ImagePreprocessor(Microsoft.Extensions.Options.Options.Create(Options(true)));
        Time(a, files, 1);
        if (b is not null)
        {
            Time(b, files, 1);
        }

        var msA = new List<double>();
        var ratios = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            double ta = Time(a, files, passes);
            msA.Add(ta);
            if (b is null)
            {
                Console.WriteLine($"  round {round + 1}: {ta,8:0.00} ms/image");
                continue;
            }

            double tb = Time(b, files, passes);
            ratios.Add(tb / ta);
            Console.WriteLine($"  round {round + 1}: {ta,8:0.00} ms/image, with {compare} changed {tb,8:0.00} ms/image, ratio {tb / ta:0.000}");
        }

        string line = $"ms_per_image={Stats.Median([.. msA.Order()]).ToString("0.00", CultureInfo.InvariantCulture)}";
        if (ratios.Count > 0)
        {
            line += $" ratio_{compare}={Stats.Median([.. ratios.Order()]).ToString("0.000", CultureInfo.InvariantCulture)}";
        }

        Console.WriteLine(line);
        return 0;
    }

    private static double Time(ImagePreprocessor preprocessor, byte[][] files, int passes)
    {
        var clock = Stopwatch.StartNew();
        for (int pass = 0; pass < passes; pass++)
        {
            foreach (byte[] bytes in files)
            {
                if (preprocessor.Prepare(bytes, Spec).Error is { } error)
                {
                    throw new InvalidOperationException($"{error.Code}: {error.Message}");
                }
            }
        }

        return clock.Elapsed.TotalMilliseconds / (files.Length * passes);
    }

    // The steps of ImagePreprocessor.Prepare one by one, timed separately (medians over rounds, ms per image).
    private static void Stages(byte[][] files, DecoderKind decoder, int rounds)
    {
        Configuration configuration = Configuration.Default.Clone();
        configuration.PreferContiguousImageBuffers = true;
        configuration.MaxDegreeOfParallelism = 1;
        configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { MaximumPoolSizeMegabytes = 256 });
        IFrameDecoder frames = FrameDecoders.Create(decoder, configuration);
        string[] names = ["decode", "watermark", "stealth", "orient+resize+background", "clone to Rgb24", "pack"];
        var samples = names.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round <= rounds; round++)
        {
            var totals = new double[names.Length];
            foreach (byte[] bytes in files)
            {
                long t0 = Stopwatch.GetTimestamp();
                using Image<Rgba32> decoded = frames.DecodeFirstFrame(bytes);
                long t1 = Stopwatch.GetTimestamp();
                _ = DwtDctWatermark.Detect(decoded);
                long t2 = Stopwatch.GetTimestamp();
                _ = StealthMetadata.Read(decoded);
                long t3 = Stopwatch.GetTimestamp();
                decoded.Mutate(x => x.AutoOrient()
                    .Resize(new ResizeOptions { Size = new Size(224, 224), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Bicubic })
                    .BackgroundColor(Color.White));
                long t4 = Stopwatch.GetTimestamp();
                using Image<Rgb24> small = decoded.CloneAs<Rgb24>();
                long t5 = Stopwatch.GetTimestamp();
                _ = TensorPacker.Pack(small, Spec);
                long t6 = Stopwatch.GetTimestamp();
                long[] marks = [t0, t1, t2, t3, t4, t5, t6];
                for (int s = 0; s < names.Length; s++)
                {
                    totals[s] += Stopwatch.GetElapsedTime(marks[s], marks[s + 1]).TotalMilliseconds;
                }
            }

            if (round > 0)
            {
                for (int s = 0; s < names.Length; s++)
                {
                    samples[s].Add(totals[s] / files.Length);
                }
            }
        }

        Console.WriteLine("  stages (median ms/image):");
        for (int s = 0; s < names.Length; s++)
        {
            Console.WriteLine($"    {names[s],-26} {Stats.Median([.. samples[s].Order()]),8:0.00}");
        }
    }
}
