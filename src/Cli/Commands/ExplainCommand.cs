using System.CommandLine;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains;
using ArtGrid.Hosting.Embedded;
using ArtGrid.Imaging;
using Microsoft.Extensions.DependencyInjection;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid explain FILE --out map.png</c>: scores one image as <c>score</c> does and draws its class activation map
/// over it, so that a person can see which parts of the image the classifier's verdict rests on.
/// </summary>
public static class ExplainCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The image file to explain." };
        var output = new Option<string>("--out") { Description = "The PNG to write: the image, EXIF-oriented, with the activation map over it.", Required = true };
        var models = ModelOptions.Models();
        var model = ModelOptions.Model();
        var verbose = new Option<bool>("--verbose") { Description = "Log the cluster's information messages to stderr." };

        var command = new Command("explain", "Score one image and draw where the classifier found its evidence (a class activation map) over it.")
        {
            file, output, models, model, verbose,
        };
        command.SetAction((result, cancellationToken) => RunAsync(
            result.GetValue(file)!,
            result.GetValue(output)!,
            EmbeddedCluster.Settings(result.GetValue(models), result.GetValue(model), maxBatch: null),
            result.GetValue(verbose),
            Console.Out,
            cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(
        string file,
        string outPath,
        IReadOnlyDictionary<string, string?> settings,
        bool verbose,
        TextWriter output,
        CancellationToken cancellationToken)
    {
        if (!File.Exists(file))
        {
            await Console.Error.WriteLineAsync($"artgrid explain: No such file: {file}");
            return ExitCodes.Usage;
        }

        if (!string.Equals(Path.GetExtension(outPath), ".png", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync($"artgrid explain: --out {outPath}: the map is written as PNG; name a .png file.");
            return ExitCodes.Usage;
        }

        await using EmbeddedCluster? cluster = await EmbeddedCluster.StartOrReportAsync(
            "explain", settings, inFlight: 1, verbose, cancellationToken, refuse: EmbeddedCluster.WhyNoActivationMaps);
        if (cluster is null)
        {
            return ExitCodes.Setup;
        }

        // The map is drawn over the image as it was scored, from the decode that made its tensor (in the sandbox).
        ScoredImage? scored = null;
        await cluster.CreateScorer(1, keepOrientedImages: true).RunScoredAsync([file], (_, s) =>
        {
            scored = s;
            return Task.CompletedTask;
        }, cancellationToken);
        ImageScore? score = scored?.Score;

        string? failed = score switch
        {
            null => "it was not scored",
            { Error: { } error } => $"{error.Code}: {error.Message}",
            { ActivationMap: null } => "the model returned no activation map",
            { ActivationMap: { } map } => await Task.Run(
                () => ActivationOverlay.Write(scored!.Oriented, map, outPath), cancellationToken),
        };
        if (failed is not null)
        {
            await Console.Error.WriteLineAsync($"artgrid explain: {file}: {failed}");
            return ExitCodes.Failed;
        }

        await output.WriteLineAsync((ScoreLine.From(file, score!) with { Map = outPath }).ToJson());
        await output.FlushAsync(cancellationToken);
        return ExitCodes.Ok;
    }
}
