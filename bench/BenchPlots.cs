using ArtGrid.Training.Evaluation;
using ScottPlot;

namespace ArtGrid.Bench;

/// <summary>The pictures of a quick run, drawn with ScottPlot as artgrid eval draws its own.</summary>
internal static class BenchPlots
{
    public const int Width = 900;
    public const int Height = 560;

    private static readonly Color[] Palette = [new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189)];

    /// <summary>Writes the PNGs into <paramref name="directory"/>; returns their file names.</summary>
    public static List<string> Write(string directory, PreprocessBench.Result? pre, InferenceBench.Result? inference, PipelineBench.Result? pipeline, MemoryBench.Result? memory)
    {
        Directory.CreateDirectory(directory);
        string? font = PlotFont.Name.Value;
        var written = new List<string>();
        if (pre is not null)
        {
            string[] classes = [.. PhotoMix.Classes.Where(pre.MsPerImage[PreprocessBench.ArtGrid].ContainsKey)];
            Save(GroupedBars(
                "Preprocessing to 224x224, one thread: CPU-ms per image (lower is better)",
                "CPU-ms per image",
                [.. classes.Select(c => c == "png" ? "2 MP PNG" : $"{c.Replace("mp", " MP", StringComparison.Ordinal)} JPEG")],
                [.. PreprocessBench.Tools.Select(t => (t, classes.Select(c => pre.MsPerImage[t].TryGetValue(c, out Spread s) ? s.Median : double.NaN).ToArray()))]),
                "preprocessing.png");
        }

        if (inference is not null)
        {
            Save(GroupedBars(
                $"Inference, ResNet-18 224x224: images/s by batch size (higher is better); served batch {inference.ServedBatch}",
                "images/s",
                [.. inference.Rows.Select(r => $"batch {r.BatchSize}")],
                [
                    ($"raw ONNX Runtime, every core ({Environment.ProcessorCount} threads)", [.. inference.Rows.Select(r => r.RawAllCores.Median)]),
                    ($"raw ONNX Runtime, {ThreadsLabel(inference.ServedThreads)}", [.. inference.Rows.Select(r => r.RawServed.Median)]),
                    ($"inference grain, {ThreadsLabel(inference.ServedThreads)}", [.. inference.Rows.Select(r => r.Grain.Median)]),
                ]),
                "inference.png");
        }

        if (pipeline is not null && pipeline.LatenciesMs.Length > 0)
        {
            Save(Latency(pipeline), "latency.png");
        }

        if (memory is not null && memory.Timeline.Count > 1)
        {
            Save(Memory(memory), "memory.png");
        }

        return written;

        void Save(Plot plot, string file)
        {
            if (font is not null)
            {
                plot.Font.Set(font);
            }

            plot.SavePng(Path.Combine(directory, file), Width, Height);
            written.Add(file);
        }
    }

    private static string ThreadsLabel(int threads) => threads > 0 ? $"{threads} threads" : $"ORT default ({Environment.ProcessorCount} threads)";

    private static Plot GroupedBars(string title, string yLabel, string[] groups, (string Name, double[] Values)[] series)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.YLabel(yLabel);
        double width = 0.8 / series.Length;
        for (int s = 0; s < series.Length; s++)
        {
            Color colour = Palette[s % Palette.Length];
            var bars = new List<Bar>();
            for (int g = 0; g < groups.Length; g++)
            {
                double value = series[s].Values[g];
                if (double.IsFinite(value))
                {
                    bars.Add(new Bar
                    {
                        Position = g + ((s - ((series.Length - 1) / 2.0)) * width),
                        Value = value,
                        Size = width * 0.92,
                        FillColor = colour,
                        Label = value.ToString(value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00", System.Globalization.CultureInfo.InvariantCulture),
                    });
                }
            }

            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = series[s].Name;
            plottable.Color = colour;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. Enumerable.Range(0, groups.Length).Select(i => (double)i)], groups);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot Latency(PipelineBench.Result pipeline)
    {
        double[] sorted = [.. pipeline.LatenciesMs.Order()];
        double[] fraction = [.. Enumerable.Range(1, sorted.Length).Select(i => (double)i / sorted.Length)];
        var plot = new Plot();
        plot.Title($"Embedded pipeline, {PipelineBench.InFlight} in flight: per-image latency, {sorted.Length} images");
        plot.XLabel("latency, submit to verdict (ms)");
        plot.YLabel("fraction of images at or below");
        var curve = plot.Add.ScatterLine(sorted, fraction);
        curve.Color = Palette[0];
        curve.LineWidth = 2;
        curve.LegendText = "cumulative distribution";
        Marker(plot, pipeline.P50Ms, $"p50 {pipeline.P50Ms:0} ms", Palette[2]);
        Marker(plot, pipeline.P99Ms, $"p99 {pipeline.P99Ms:0} ms", Palette[3]);
        plot.Axes.SetLimitsY(0, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static Plot Memory(MemoryBench.Result memory)
    {
        double[] t = [.. memory.Timeline.Select(s => s.Seconds)];
        var plot = new Plot();
        plot.Title($"2x overload, 12 MP JPEGs offered at {memory.OfferedPerSecond:0.0}/s for {memory.OfferSeconds:0} s: resident memory");
        plot.XLabel("seconds");
        plot.YLabel("resident memory (MiB)");
        Line(plot, t, [.. memory.Timeline.Select(s => s.Rss.TotalBytes / 1048576.0)], "host + decode workers", Palette[0]);
        Line(plot, t, [.. memory.Timeline.Select(s => s.Rss.HostBytes / 1048576.0)], "host process", Palette[1]);
        Line(plot, t, [.. memory.Timeline.Select(s => s.Rss.ChildBytes / 1048576.0)], "decode workers", Palette[2]);
        var backlog = plot.Add.ScatterLine(t, [.. memory.Timeline.Select(s => (double)s.Backlog)]);
        backlog.Axes.YAxis = plot.Axes.Right;
        backlog.Color = Palette[4];
        backlog.LinePattern = LinePattern.Dashed;
        backlog.LegendText = "images in the system (right axis)";
        plot.Axes.Right.Label.Text = "images submitted, not yet answered";
        var end = plot.Add.VerticalLine(memory.OfferSeconds);
        end.Color = Colors.Gray;
        end.LinePattern = LinePattern.Dotted;
        end.LegendText = "offering stops";
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static void Line(Plot plot, double[] x, double[] y, string legend, Color colour)
    {
        var line = plot.Add.ScatterLine(x, y);
        line.Color = colour;
        line.LineWidth = 2;
        line.LegendText = legend;
    }

    private static void Marker(Plot plot, double x, string legend, Color colour)
    {
        var line = plot.Add.VerticalLine(x);
        line.Color = colour;
        line.LinePattern = LinePattern.Dashed;
        line.LegendText = legend;
    }
}
