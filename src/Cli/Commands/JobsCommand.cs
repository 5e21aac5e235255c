using System.CommandLine;
using ArtGrid.Contracts;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid jobs get ID</c>: a job of a running cluster as its REST gateway has it (<c>GET /v1/jobs/{id}</c>, API key
/// scope <c>read</c>), printed as one JSON line whatever its status (accepted, received, completed, rejected); a job
/// the gateway does not know exits <see cref="ExitCodes.Failed"/>.
/// </summary>
public static class JobsCommand
{
    /// <summary>The API key scope reading a job needs.</summary>
    public const string Scope = "read";

    public static Command Create()
    {
        Option<string> gateway = GatewayOptions.Address();
        Option<string?> apiKey = GatewayOptions.ApiKey();

        var id = new Argument<string>("id") { Description = "The job's id (as submit printed it)." };
        var get = new Command("get", "Print the job as one JSON line: status, times, verdict or rejection, callback.") { id };
        get.SetAction((result, cancellationToken) =>
            GetAsync(result.GetValue(gateway)!, GatewayOptions.ApiKeyOf(result, apiKey), result.GetValue(id)!, Console.Out, cancellationToken));

        return new Command("jobs", "Read the jobs of a running cluster (through the REST gateway).") { gateway, apiKey, get };
    }

    public static async Task<int> GetAsync(string gateway, string? apiKey, string id, TextWriter output, CancellationToken cancellationToken)
    {
        if (!ScoreImagesValidator.IsValidJobId(id))
        {
            await Console.Error.WriteLineAsync($"artgrid jobs get: a job id is 1 to {ScoreImagesValidator.MaxJobIdLength} printable characters.");
            return ExitCodes.Usage;
        }

        return await GatewayOptions.CallAsync(
            "jobs get",
            gateway,
            apiKey,
            Scope,
            ExitCodes.Failed,
            http => http.GetAsync($"v1/jobs/{Uri.EscapeDataString(id)}", cancellationToken),
            async body => await output.WriteLineAsync(Gateway.OneLine(body)),
            cancellationToken);
    }
}
