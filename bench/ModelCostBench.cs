using System.Diagnostics;
using System.Globalization;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;

namespace ArtGrid.Bench;

/// <summary>
/// What one model version costs per image against another, measured in the same process in alternating rounds so that
/// a shared machine's noise falls on both: each round scores the same images (the samples, repeated to a batch) through
/// each model's serving session, head and activation maps included, after each model's own preprocessing.
/// </summary>
internal static class ModelCostBench
{
    public static int Run(string[] args)
    {
        string root = PhotoMix.RepositoryRoot();
        string models = CommandLine.Option(args, "--models") ?? Path.Combine(root, "models");
        string[] ids = [CommandLine.Option(args, "--a") ?? "artgrid-resnet18/2", CommandLine.Option(args, "--b") ?? "artgrid-resnet18/3"];
        int rounds = int.Parse(CommandLine.Option(args, "--rounds") ?? "8", CultureInfo.InvariantCulture);
        int batch = int.Parse(CommandLine.Option(args, "--batch") ?? "8", CultureInfo.InvariantCulture);
        int threads = int.Parse(CommandLine.Option(args, "--threads") ?? "1", CultureInfo.InvariantCulture);
        string[] images = [.. Directory.EnumerateFiles(Path.Combine(root, "samples"), "*.*", SearchOption.AllDirectories).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal)];

        var repository = new ModelRepository(models);
        var preprocessor = new ImagePreprocessor(Options.Create(new PreprocessingOptions()));
        LoadedModel[] loaded = [.. ids.Select(repository.Load)];
        OnnxModelSession[] sessions = [.. loaded.Select(m => new OnnxModelSession(m, "cpu:0", threads))];
        byte[][] files = [.. images.Select(File.ReadAllBytes)];
        var perImage = new List<double>[] { [], [] };
        var prepare = new List<double>[] { [], [] };
        try
        {
            for (int round = 0; round < rounds; round++)
            {
                // Alternate which model goes first, so that neither always runs on a warmer cache.
                foreach (int m in round % 2 == 0 ? new[] { 0, 1 } : [1, 0])
                {
                    long start = Stopwatch.GetTimestamp();
                    float[][] tensors = [.. Enumerable.Range(0, batch).Select(i => preprocessor.Prepare(files[i % files.Length], loaded[m].Input).Tensor!)];
                    prepare[m].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / batch);
                    start = Stopwatch.GetTimestamp();
                    sessions[m].Score(tensors);
                    perImage[m].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / batch);
                }
            }
        }
        finally
        {
            foreach (OnnxModelSession session in sessions)
            {
                session.Dispose();
            }
        }

        double Median(List<double> values) => Stats.Median([.. values.Order()]);
        var table = new Table("model", "preprocess ms/image", "inference ms/image (median of rounds)");
        for (int m = 0; m < 2; m++)
        {
            table.Row(ids[m], Median(prepare[m]).ToString("0.0", CultureInfo.InvariantCulture), Median(perImage[m]).ToString("0.0", CultureInfo.InvariantCulture));
        }

        table.Print($"Cost per image of {ids[1]} against {ids[0]}");
        double[] ratios = [.. Enumerable.Range(0, rounds).Select(r => perImage[1][r] / perImage[0][r]).Order()];
        Console.WriteLine($"{rounds} alternating rounds, batch {batch}, {threads} thread(s), {images.Length} sample images.");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"a={ids[0]} b={ids[1]} infer_ms_a={Median(perImage[0]):0.0} infer_ms_b={Median(perImage[1]):0.0} infer_ratio_b_over_a={Stats.Median(ratios):0.00} pre_ms_a={Median(prepare[0]):0.0} pre_ms_b={Median(prepare[1]):0.0}"));
        return 0;
    }
}
