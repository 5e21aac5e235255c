using System.CommandLine;
using System.Diagnostics;
using ArtGrid.Abstractions;
using ArtGrid.Grains.Imaging;
using ArtGrid.Grains.Inference;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid score PATH...</c>: the embedded cluster scores files and folders, one JSON line per image on stdout; with
/// <c>--maps DIR</c> it also draws each image's class activation map there.
/// </summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Image files and folders (walked recursively).", Arity = ArgumentArity.OneOrMore };
        var models = new Option<string?>("--models") { Description = "Model repository folder (default: the one shipped beside the program)." };
        var model = new Option<string?>("--model") { Description = "Model as NAME or NAME/VERSION (default: artgrid-resnet18, newest version)." };
        var maxBatch = new Option<int?>("--max-batch") { Description = "Largest inference batch." };
        var inFlight = new Option<int>("--in-flight") { Description = "Images in flight at once.", DefaultValueFactory = _ => 64 };
        var verbose = new Option<bool>("--verbose") { Description = "Log the cluster's information messages to stderr." };
        var maps = new Option<string?>("--maps") { Description = "Folder to write each image's class activation map into, as a PNG overlay (the model needs a feature map)." };

        var command = new Command("score", "Score images as human-made or AI-generated, with no servers (embedded cluster).")
        {
            paths, models, model, maxBatch, inFlight, maps, verbose,
        };
        command.SetAction((result, cancellationToken) =>
        {
            Dictionary<string, string?> settings = EmbeddedHost.ModelSettings(result.GetValue(models), result.GetValue(model));
            settings[$"{InferenceOptions.SectionName}:{nameof(InferenceOptions.MaxBatchSize)}"] = result.GetValue(maxBatch)?.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return RunAsync(result.GetValue(paths)!, settings, result.GetValue(inFlight), result.GetValue(verbose), Console.Out, result.GetValue(maps), cancellationToken);
        });
        return command;
    }

    public static async Task<int> RunAsync(
        string[] paths,
        IReadOnlyDictionary<string, string?> settings,
        int inFlight,
        bool verbose,
        TextWriter output,
        string? mapsFolder,
        CancellationToken cancellationToken)
    {
        if (await InputFiles.ExpandOrReportAsync(paths, "score") is not { } files)
        {
            return ExitCodes.Usage;
        }

        using IHost host = EmbeddedHost.Build(settings, verbose);

        // Fail before starting anything when the model cannot be loaded, or cannot draw the maps asked for.
        if (await EmbeddedHost.LoadModelOrReportAsync(host, "score") is not { } loaded)
        {
            return ExitCodes.Setup;
        }

        MapFileNames? mapNames = null;
        if (mapsFolder is not null)
        {
            if (EmbeddedHost.WhyNoActivationMaps(loaded) is { } why)
            {
                await Console.Error.WriteLineAsync($"artgrid score: --maps: {why}");
                return ExitCodes.Setup;
            }

            Directory.CreateDirectory(mapsFolder);
            mapNames = new MapFileNames(mapsFolder, files);
        }

        await host.StartAsync(cancellationToken);
        ImagePreprocessor preprocessor = host.Services.GetRequiredService<ImagePreprocessor>();
        var scorer = new EmbeddedScorer(host.Services.GetRequiredService<IGrainFactory>(), inFlight);
        var summary = new ScoreSummary();
        var clock = Stopwatch.StartNew();
        bool interactive = !Console.IsErrorRedirected;

        async Task Emit(int index, ImageScore score)
        {
            ScoreLine line = ScoreLine.From(files[index], score);
            if (mapNames is not null && score.ActivationMap is { } map)
            {
                string path = mapNames.Next(files[index]);
                string? failed = await Task.Run(() => ActivationOverlay.Write(preprocessor, files[index], map, path), cancellationToken);
                if (failed is null)
                {
                    line = line with { Map = path };
                }
                else
                {
                    await Console.Error.WriteLineAsync($"artgrid score: no map for {files[index]}: {failed}");
                }
            }

            await output.WriteLineAsync(line.ToJson());
            summary.Add(score);
        }

        if (interactive && files.Count > 0)
        {
            IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            await console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    ProgressTask task = context.AddTask($"Scoring {files.Count} images", maxValue: files.Count);
                    await scorer.RunAsync(files, async (i, s) =>
                    {
                        await Emit(i, s);
                        task.Increment(1);
                    }, cancellationToken);
                });
            console.MarkupLine(Markup.Escape(summary.Describe(clock.Elapsed)));
        }
        else
        {
            await scorer.RunAsync(files, Emit, cancellationToken);
        }

        await output.FlushAsync(cancellationToken);
        await host.StopAsync(CancellationToken.None);
        return ExitCodes.Ok;
    }

    private sealed class ScoreSummary
    {
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

        public void Add(ImageScore score)
        {
            string key = score.Error is null ? score.Label ?? "?" : "error";
            _counts[key] = _counts.GetValueOrDefault(key) + 1;
        }

        public string Describe(TimeSpan elapsed)
        {
            int total = _counts.Values.Sum();
            string parts = string.Join(", ", _counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Value} {kv.Key}"));
            return $"{total} images in {elapsed.TotalSeconds:0.0} s ({total / Math.Max(elapsed.TotalSeconds, 1e-9):0.0}/s): {parts}";
        }
    }
}
