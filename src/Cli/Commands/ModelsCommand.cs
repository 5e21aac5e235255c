using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid models list</c> and <c>artgrid models activate NAME VERSION</c>: the model versions of a running cluster,
/// through its REST gateway (<c>GET /models</c>, <c>PUT /models/{name}/active</c>). The cluster switches without a
/// restart; the gateway's answer is printed as JSON lines on stdout.
/// </summary>
public static class ModelsCommand
{
    public const string DefaultGateway = "http://127.0.0.1:8080";

    public static Command Create()
    {
        var gateway = new Option<string>("--gateway")
        {
            Description = $"The cluster's REST gateway (default: $ARTGRID_GATEWAY, else {DefaultGateway}).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ARTGRID_GATEWAY") ?? DefaultGateway,
            Recursive = true,
        };

        var list = new Command("list", "One JSON line per model: its versions on disk and the active one.");
        list.SetAction((result, cancellationToken) => ListAsync(result.GetValue(gateway)!, Console.Out, cancellationToken));

        var name = new Argument<string>("name") { Description = "The model's name (its folder in the repository)." };
        var version = new Argument<string>("version") { Description = "The version to make active (its folder)." };
        var activate = new Command("activate", "Make VERSION the active version of model NAME on every silo, without restarting them.") { name, version };
        activate.SetAction((result, cancellationToken) =>
            ActivateAsync(result.GetValue(gateway)!, result.GetValue(name)!, result.GetValue(version)!, Console.Out, cancellationToken));

        return new Command("models", "List the model versions of a running cluster, or switch the active one (through the REST gateway).")
        {
            gateway, list, activate,
        };
    }

    public static Task<int> ListAsync(string gateway, TextWriter output, CancellationToken cancellationToken) =>
        CallAsync("list", gateway, async http =>
        {
            HttpResponseMessage response = await http.GetAsync("models", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return await FailAsync("list", response, cancellationToken);
            }

            using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            foreach (JsonElement model in body.RootElement.GetProperty("models").EnumerateArray())
            {
                await output.WriteLineAsync(model.GetRawText());
            }

            return ExitCodes.Ok;
        });

    public static Task<int> ActivateAsync(string gateway, string name, string version, TextWriter output, CancellationToken cancellationToken) =>
        CallAsync("activate", gateway, async http =>
        {
            HttpResponseMessage response = await http.PutAsJsonAsync($"models/{Uri.EscapeDataString(name)}/active", new { version }, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return await FailAsync("activate", response, cancellationToken);
            }

            await output.WriteLineAsync(await response.Content.ReadAsStringAsync(cancellationToken));
            return ExitCodes.Ok;
        });

    private static async Task<int> CallAsync(string verb, string gateway, Func<HttpClient, Task<int>> call)
    {
        if (!Uri.TryCreate(gateway.EndsWith('/') ? gateway : gateway + "/", UriKind.Absolute, out Uri? address) || address.Scheme is not ("http" or "https"))
        {
            await Console.Error.WriteLineAsync($"artgrid models {verb}: --gateway '{gateway}' is not an http:// or https:// URL.");
            return ExitCodes.Usage;
        }

        // A switch validates the version on a silo (model files and a trial run) before it answers: allow for that.
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        try
        {
            return await call(http);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"artgrid models {verb}: the gateway at {address} did not answer as expected: {ex.Message}");
            return ExitCodes.Setup;
        }
    }

    // The gateway's reason on stderr. A malformed request is a usage error; a model or version that is missing or
    // does not load is a set-up error, as for `score`.
    private static async Task<int> FailAsync(string verb, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        string reason = body;
        try
        {
            using JsonDocument problem = JsonDocument.Parse(body);
            if (problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("error", out JsonElement error))
            {
                reason = error.GetString() ?? body;
            }
        }
        catch (JsonException)
        {
            // not JSON: the body as it is
        }

        await Console.Error.WriteLineAsync($"artgrid models {verb}: {(int)response.StatusCode} {response.ReasonPhrase}: {reason}");
        return response.StatusCode == System.Net.HttpStatusCode.BadRequest ? ExitCodes.Usage : ExitCodes.Setup;
    }
}
