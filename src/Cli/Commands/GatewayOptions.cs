using System.CommandLine;
using System.Text.Json;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// The options of the commands that call the REST gateway (<c>--gateway</c>, <c>--api-key</c>) and the one way they
/// call it: a malformed address is a usage error, a gateway that does not answer (or answers what is not JSON) a set-up
/// error, an error answer goes to stderr with its problem detail and the exit code of <see cref="Gateway.ExitCode"/>.
/// </summary>
public static class GatewayOptions
{
    /// <summary><c>--gateway URL</c>, recursive so that a parent command (<c>models</c>, <c>jobs</c>) gives it to its subcommands.</summary>
    public static Option<string> Address() => new("--gateway")
    {
        Description = $"The cluster's REST gateway (default: ${Gateway.AddressVariable}, else {Gateway.DefaultAddress}).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(Gateway.AddressVariable) ?? Gateway.DefaultAddress,
        Recursive = true,
    };

    /// <summary>
    /// <c>--api-key KEY</c>. No default value factory: help would print the key; the environment's
    /// (<c>$ARTGRID_API_KEY</c>) is read when the command runs.
    /// </summary>
    public static Option<string?> ApiKey() => new("--api-key")
    {
        Description = $"API key sent as 'Authorization: Bearer KEY' (default: ${Gateway.ApiKeyVariable}).",
        Recursive = true,
    };

    /// <summary>The key of <paramref name="option"/>, else of the environment.</summary>
    public static string? ApiKeyOf(ParseResult result, Option<string?> option) =>
        Gateway.ApiKey(result.GetValue(option), Environment.GetEnvironmentVariable(Gateway.ApiKeyVariable));

    /// <summary>
    /// Sends one request to the gateway and hands a successful answer's body to <paramref name="onSuccess"/>.
    /// </summary>
    /// <param name="command">"models list", "jobs get"...: the prefix of stderr lines.</param>
    /// <param name="scope">The API key scope the call needs, named when the gateway answers 403.</param>
    /// <param name="notFound">The exit code of a 404.</param>
    public static async Task<int> CallAsync(
        string command,
        string gateway,
        string? apiKey,
        string scope,
        int notFound,
        Func<HttpClient, Task<HttpResponseMessage>> send,
        Func<string, Task> onSuccess,
        CancellationToken cancellationToken)
    {
        if (Gateway.Address(gateway) is not { } address)
        {
            await Console.Error.WriteLineAsync($"artgrid {command}: --gateway '{gateway}' is not an http:// or https:// URL.");
            return ExitCodes.Usage;
        }

        // A model switch validates the version on a silo (model files and a trial run) before it answers: allow for that.
        using HttpClient http = Gateway.CreateClient(address, apiKey, TimeSpan.FromMinutes(2));
        try
        {
            using HttpResponseMessage response = await send(http);
            string body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync(Gateway.Describe(command, response.StatusCode, response.ReasonPhrase, body, scope));
                return Gateway.ExitCode(response.StatusCode, notFound);
            }

            await onSuccess(body);
            await Console.Out.FlushAsync(cancellationToken);
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException
                                   && !cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"artgrid {command}: the gateway at {address} did not answer as expected: {ex.Message}");
            return ExitCodes.Setup;
        }
    }
}
