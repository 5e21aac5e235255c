using System.CommandLine;
using System.Text.Json;
using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging.Provenance;

namespace ArtGrid.Cli.Commands;

/// <summary><c>artgrid evidence PATH...</c>: the provenance evidence of each file, one JSON line per file, no model needed.</summary>
public static class EvidenceCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Image files and folders (walked recursively).", Arity = ArgumentArity.OneOrMore };
        var trustAnchors = new Option<string?>("--trust-anchors")
        {
            Description = "C2PA trust anchors: a PEM file or folder; 'none' for no list. Default: the C2PA trust list that ships with ArtGrid.",
        };
        var command = new Command("evidence", "Print what each image file says about its origin (C2PA, IPTC, generator settings), without scoring.")
        {
            paths,
            trustAnchors,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(paths)!, Console.Out, cancellationToken, result.GetValue(trustAnchors)));
        return command;
    }

    public static async Task<int> RunAsync(string[] paths, TextWriter output, CancellationToken cancellationToken, string? trustAnchors = null)
    {
        if (await InputFiles.ExpandOrReportAsync(paths, "evidence") is not { } files)
        {
            return ExitCodes.Usage;
        }

        C2paTrustList? trust;
        try
        {
            trust = C2paTrustList.FromOption(trustAnchors);
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync($"artgrid evidence: {ex.Message}");
            return ExitCodes.Usage;
        }

        foreach (string file in files)
        {
            IReadOnlyList<Evidence> evidence;
            ScoreLineError? error = null;
            try
            {
                evidence = ProvenanceReader.Read(await File.ReadAllBytesAsync(file, cancellationToken), trust: trust);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                evidence = [];
                error = new ScoreLineError(ErrorCodes.Unreadable, ex.Message);
            }

            await output.WriteLineAsync(JsonSerializer.Serialize(new { path = file, evidence, error }, ScoreLine.Json));
        }

        return ExitCodes.Ok;
    }
}
