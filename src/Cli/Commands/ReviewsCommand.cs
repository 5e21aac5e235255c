using System.CommandLine;
using System.IO.Compression;
using System.Text.Json;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid reviews export --out DIR</c>: the images reviewers labelled in the console, from the REST gateway
/// (<c>GET /v1/review/export</c>, API key scope <c>review</c>), written as the data set <c>artgrid train</c> and
/// <c>artgrid eval</c> read: <c>DIR/labels.csv</c> and <c>DIR/images/</c>.
/// </summary>
public static class ReviewsCommand
{
    /// <summary>The API key scope the export needs.</summary>
    public const string Scope = "review";

    public static Command Create()
    {
        Option<string> gateway = GatewayOptions.Address();
        Option<string?> apiKey = GatewayOptions.ApiKey();
        var output = new Option<string>("--out") { Description = "A new (or empty) folder for labels.csv and images/.", Required = true };
        var export = new Command("export", "Write the reviewed images as a labelled data set (labels.csv + images/), for artgrid eval and train.") { output };
        export.SetAction((result, cancellationToken) =>
            ExportAsync(result.GetValue(gateway)!, GatewayOptions.ApiKeyOf(result, apiKey), result.GetValue(output)!, Console.Out, cancellationToken));
        return new Command("reviews", "The reviewers' labels of a running cluster (through the REST gateway).") { gateway, apiKey, export };
    }

    public static async Task<int> ExportAsync(string gateway, string? apiKey, string outDir, TextWriter output, CancellationToken cancellationToken)
    {
        string target = Path.GetFullPath(outDir);
        if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
        {
            await Console.Error.WriteLineAsync($"artgrid reviews export: --out {outDir} must be a new or empty folder.");
            return ExitCodes.Usage;
        }

        if (Gateway.Address(gateway) is not { } address)
        {
            await Console.Error.WriteLineAsync($"artgrid reviews export: --gateway '{gateway}' is not an http:// or https:// URL.");
            return ExitCodes.Usage;
        }

        using HttpClient http = Gateway.CreateClient(address, apiKey, TimeSpan.FromMinutes(10));
        string zip = Path.Combine(Path.GetTempPath(), $"artgrid-reviews-{Guid.NewGuid():N}.zip");
        try
        {
            using HttpResponseMessage response = await http.GetAsync("v1/review/export", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                string body = await response.Content.ReadAsStringAsync(cancellationToken);
                await Console.Error.WriteLineAsync(Gateway.Describe("reviews export", response.StatusCode, response.ReasonPhrase, body, Scope));
                return Gateway.ExitCode(response.StatusCode, ExitCodes.Setup);
            }

            await using (FileStream file = File.Create(zip))
            {
                await response.Content.CopyToAsync(file, cancellationToken);
            }

            // ExtractToDirectory refuses entries that would land outside the folder.
            Directory.CreateDirectory(target);
            await ZipFile.ExtractToDirectoryAsync(zip, target, overwriteFiles: false, cancellationToken);
            string labels = Path.Combine(target, "labels.csv");
            string images = Path.Combine(target, "images");
            if (!File.Exists(labels))
            {
                await Console.Error.WriteLineAsync($"artgrid reviews export: the gateway's export has no labels.csv.");
                return ExitCodes.Setup;
            }

            Directory.CreateDirectory(images);
            int rows = File.ReadLines(labels).Skip(1).Count(line => line.Length > 0);
            await output.WriteLineAsync(JsonSerializer.Serialize(new { labels, images, rows }));
            await output.FlushAsync(cancellationToken);
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"artgrid reviews export: the gateway at {address} did not answer as expected: {ex.Message}");
            return ExitCodes.Setup;
        }
        finally
        {
            File.Delete(zip);
        }
    }
}
