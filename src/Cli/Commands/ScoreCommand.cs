using System.CommandLine;
using System.Diagnostics;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains;
using ArtGrid.Grains.Models;
using ArtGrid.Hosting.Embedded;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid score PATH...</c>: the embedded cluster scores files and folders, one JSON line per image on stdout; with
/// <c>--maps DIR</c> it also draws each image's class activation map there. With <c>--fail-on-error</c> a run where any
/// image got an error exits <see cref="ExitCodes.Failed"/>, once every line is printed.
/// </summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Image files and folders (walked recursively).", Arity = ArgumentArity.OneOrMore };
        var models = ModelOptions.Models();
        var model = ModelOptions.Model();
        var maxBatch = new Option<int?>("--max-batch") { Description = "Largest inference batch." };
        var inFlight = new Option<int>("--in-flight") { Description = "Images in flight at once.", DefaultValueFactory = _ => 64 };
        var verbose = new Option<bool>("--verbose") { Description = "Log the cluster's information messages to stderr." };
        var maps = new Option<string?>("--maps") { Description = "Folder to write each image's class activation map into, as a PNG overlay (the model needs a feature map)." };
        var failOnError = new Option<bool>("--fail-on-error") { Description = $"Exit {ExitCodes.Failed} (after every line is printed) when any image could not be scored." };

        var command = new Command("score", "Score images as human-made or AI-generated, with no servers (embedded cluster).")
        {
            paths, models, model, maxBatch, inFlight, maps, failOnError, verbose,
        };
        command.SetAction((result, cancellationToken) =>
        {
            Dictionary<string, string?> settings = EmbeddedCluster.Settings(result.GetValue(models), result.GetValue(model), result.GetValue(maxBatch));
            return RunAsync(result.GetValue(paths)!, settings, result.GetValue(inFlight), result.GetValue(verbose), Console.Out, result.GetValue(maps), cancellationToken, result.GetValue(failOnError));
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
        CancellationToken cancellationToken,
        bool failOnError = false)
    {
        if (await InputFiles.ExpandOrReportAsync(paths, "score") is not { } files)
        {
            return ExitCodes.Usage;
        }

        await using EmbeddedCluster? cluster = await EmbeddedCluster.StartOrReportAsync(
            "score", settings, inFlight, verbose, cancellationToken, refuse: model => mapsFolder is null ? null : EmbeddedCluster.WhyNoActivationMaps(model) is { } why ? $"--maps: {why}" : null);
        if (cluster is null)
        {
            return ExitCodes.Setup;
        }

        MapFileNames? mapNames = null;
        if (mapsFolder is not null)
        {
            Directory.CreateDirectory(mapsFolder);
            mapNames = new MapFileNames(mapsFolder, files);
        }

        // With --maps each image comes back as it was scored (from the decode that made its tensor, in the sandbox), and
        // its map is drawn over those pixels: the file is never decoded again, nor in this process.
        EmbeddedScorer scorer = mapNames is null ? cluster.Scorer : cluster.CreateScorer(inFlight, keepOrientedImages: true);
        var summary = new ScoreSummary();
        var clock = Stopwatch.StartNew();
        bool interactive = !Console.IsErrorRedirected;

        async Task Emit(int index, ScoredImage scored)
        {
            ImageScore score = scored.Score;
            ScoreLine line = ScoreLine.From(files[index], score);
            if (mapNames is not null && score.ActivationMap is { } map)
            {
                string path = mapNames.Next(files[index]);
                string? failed = await Task.Run(() => ActivationOverlay.Write(scored.Oriented, map, path), cancellationToken);
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
                    await scorer.RunScoredAsync(files, async (i, s) =>
                    {
                        await Emit(i, s);
                        task.Increment(1);
                    }, cancellationToken);
                });
            console.MarkupLine(Markup.Escape(summary.Describe(clock.Elapsed)));
        }
        else
        {
            await scorer.RunScoredAsync(files, Emit, cancellationToken);
        }

        await output.FlushAsync(cancellationToken);
        return failOnError && summary.Errors > 0 ? ExitCodes.Failed : ExitCodes.Ok;
    }

    private sealed class ScoreSummary
    {
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

        /// <summary>Images that got an error instead of a label.</summary>
        public int Errors { get; private set; }

        public void Add(ImageScore score)
        {
            Errors += score.Error is null ? 0 : 1;
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
