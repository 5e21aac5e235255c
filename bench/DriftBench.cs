using System.Globalization;
using ArtGrid.Grains.Models;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using ArtGrid.Imaging.Provenance;
using ArtGrid.Inference;
using ArtGrid.Tests;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Bench;

/// <summary>
/// What reduced JPEG decoding does to the scores: each JPEG of a folder that gets a reduced decode is scored by the
/// model twice, from the full-size decode and from the reduced one (same bicubic resize after), and the differences
/// in probability and in label (human / uncertain / ai, by the model's band) are reported. Then a watermark is
/// embedded in a 1024x1024 image and read back from a full-size and from a half-size decode.
/// </summary>
internal static class DriftBench
{
    public static int Run(string[] args)
    {
        string images = CommandLine.Option(args, "--images") ?? "samples";
        string models = CommandLine.Option(args, "--models") ?? "models";
        string modelId = CommandLine.Option(args, "--model") ?? "artgrid-resnet18/2";
        long minPixels = long.Parse(CommandLine.Option(args, "--min-pixels") ?? "0", CultureInfo.InvariantCulture);
        LoadedModel model = new ModelRepository(models).Load(modelId);
        using var session = new OnnxModelSession(model, "cpu:0", 1);
        if (CommandLine.Option(args, "--against") is { } against)
        {
            return DecoderDrift(images, model, session, Enum.Parse<DecoderKind>(against, ignoreCase: true));
        }

        var full = new ImagePreprocessor(Options.Create(new PreprocessingOptions { MaxDegreeOfParallelism = 1 }));
        var reduced = new ImagePreprocessor(Options.Create(new PreprocessingOptions { MaxDegreeOfParallelism = 1, ReducedJpegDecode = true, ReducedDecodeMinPixels = minPixels }));
        int minSide = 2 * Math.Max(model.Input.Width, model.Input.Height);
        (double low, double high) = (model.Config.Uncertain.Low, model.Config.Uncertain.High);

        var diffs = new List<double>();
        int labelChanges = 0, considered = 0;
        Console.WriteLine($"model {modelId}, uncertain band [{low}, {high}); JPEGs of {images} over {minPixels} pixels with both sides >= {minSide} after a 1/2 reduction");
        foreach (string path in Directory.EnumerateFiles(images, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string extension = Path.GetExtension(path).ToLowerInvariant();
            if (extension is not (".jpg" or ".jpeg"))
            {
                continue;
            }

            considered++;
            byte[] bytes = File.ReadAllBytes(path);
            ImageInfo info = Image.Identify(bytes) is { } identified ? new ImageInfo(identified.Width, identified.Height) : default;
            if ((long)info.Width * info.Height <= minPixels || info.Width / 2 < minSide || info.Height / 2 < minSide)
            {
                continue;
            }

            PreparedImage a = full.Prepare(bytes, model.Input), b = reduced.Prepare(bytes, model.Input);
            if (a.Tensor is null || b.Tensor is null)
            {
                Console.WriteLine($"  {path}: {a.Error?.Code ?? b.Error?.Code}");
                continue;
            }

            ModelScore[] scores = session.Score([a.Tensor, b.Tensor]);
            double pa = scores[0].AiProbability, pb = scores[1].AiProbability;
            string la = Label(pa, low, high), lb = Label(pb, low, high);
            diffs.Add(Math.Abs(pb - pa));
            labelChanges += la == lb ? 0 : 1;
            Console.WriteLine($"  {Path.GetFileName(Path.GetDirectoryName(path))}/{Path.GetFileName(path)} {info.Width}x{info.Height}: full {pa:0.0000} ({la}), reduced {pb:0.0000} ({lb}), |diff| {Math.Abs(pb - pa):0.0000}");
        }

        Console.WriteLine(diffs.Count == 0
            ? $"no image of {considered} JPEGs gets a reduced decode"
            : $"images={diffs.Count} of {considered} JPEGs, mean_abs_diff={diffs.Average():0.0000} max_abs_diff={diffs.Max():0.0000} label_changes={labelChanges}");
        WatermarkAtHalfSize(images);
        return 0;
    }

    // An SDXL mark in a 1024x1024 JPEG (quality 95): decoded at full size and at 1/2 (512x512) by Skia.
    private static void WatermarkAtHalfSize(string images)
    {
        string? source = Directory.EnumerateFiles(images, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).FirstOrDefault();
        if (source is null)
        {
            return;
        }

        using Image<Rgb24> image = Image.Load<Rgb24>(source);
        image.Mutate(x => x.Resize(1024, 1024));
        WatermarkEmbedder.Embed(image, DwtDctWatermark.Sdxl);
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 95 });
        byte[] bytes = stream.ToArray();
        Configuration configuration = Configuration.Default.Clone();
        configuration.PreferContiguousImageBuffers = true;
        var decoder = new SkiaFrameDecoder(configuration);
        foreach (int minSide in new[] { 0, 448 })
        {
            using Image<Rgba32> decoded = decoder.DecodeFirstFrame(bytes, minSide);
            double[][] votes = DwtDctWatermark.Decode(decoded, DwtDctWatermark.Sdxl.Length)!;
            Console.WriteLine($"SDXL mark in a 1024x1024 JPEG decoded at {decoded.Width}x{decoded.Height}: bit error rate {DwtDctWatermark.BitErrorRate(votes[0], DwtDctWatermark.Sdxl):0.000}, detected: {DwtDctWatermark.Detect(decoded) is not null}");
        }
    }

    /// <summary>
    /// The default decoder against <paramref name="against"/> with the default options otherwise (reduced decoding of large
    /// JPEGs included): each JPEG of the folder scored from both decodes, and the largest pixel difference of the model inputs.
    /// </summary>
    private static int DecoderDrift(string images, LoadedModel model, OnnxModelSession session, DecoderKind against)
    {
        var ours = new ImagePreprocessor(Options.Create(new PreprocessingOptions { MaxDegreeOfParallelism = 1 }));
        var other = new ImagePreprocessor(Options.Create(new PreprocessingOptions { MaxDegreeOfParallelism = 1, Decoder = against }));
        (double low, double high) = (model.Config.Uncertain.Low, model.Config.Uncertain.High);
        var diffs = new List<double>();
        int labelChanges = 0, tensorsDiffering = 0;
        float worstInput = 0;
        Console.WriteLine($"model {model.Id}: the default decoder ({ours.Decoder}) against {other.Decoder}, every JPEG of {images}");
        foreach (string path in Directory.EnumerateFiles(images, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (Path.GetExtension(path).ToLowerInvariant() is not (".jpg" or ".jpeg"))
            {
                continue;
            }

            byte[] bytes = File.ReadAllBytes(path);
            PreparedImage a = ours.Prepare(bytes, model.Input), b = other.Prepare(bytes, model.Input);
            if (a.Tensor is null || b.Tensor is null)
            {
                Console.WriteLine($"  {path}: {a.Error?.Code ?? "decoded"} / {b.Error?.Code ?? "decoded"}");
                continue;
            }

            float input = a.Tensor.Zip(b.Tensor, (x, y) => Math.Abs(x - y)).Max();
            worstInput = Math.Max(worstInput, input);
            tensorsDiffering += input > 0 ? 1 : 0;
            ModelScore[] scores = session.Score([a.Tensor, b.Tensor]);
            double pa = scores[0].AiProbability, pb = scores[1].AiProbability;
            diffs.Add(Math.Abs(pa - pb));
            labelChanges += Label(pa, low, high) == Label(pb, low, high) ? 0 : 1;
            Console.WriteLine($"  {Path.GetRelativePath(images, path)} {a.Width}x{a.Height}: {ours.Decoder} {pa:0.000000}, {other.Decoder} {pb:0.000000}, |diff| {Math.Abs(pa - pb):0.000000}");
        }

        Console.WriteLine(diffs.Count == 0
            ? $"no JPEG under {images}"
            : $"decoder_drift_images={diffs.Count} mean_abs_diff={diffs.Average():0.000000} max_abs_diff={diffs.Max():0.000000} label_changes={labelChanges} inputs_differing={tensorsDiffering} max_input_diff={worstInput:0.000000}");
        return 0;
    }

    private static string Label(double p, double low, double high) => p >= high ? "ai" : p >= low ? "uncertain" : "human";

    private readonly record struct ImageInfo(int Width, int Height);
}
