using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid models list</c> and <c>artgrid models activate NAME VERSION</c>: the model versions of a running cluster,
/// through its REST gateway (<c>GET /models</c>, <c>PUT /models/{name}/active</c>, API key scope <c>admin</c>). The
/// cluster switches without a restart; the gateway's answer is printed as JSON lines on stdout.
/// </summary>
public static class ModelsCommand
{
    /// <summary>The API key scope the model endpoints need.</summary>
    public const string Scope = "admin";

    public static Command Create()
    {
        Option<string> gateway = GatewayOptions.Address();
        Option<string?> apiKey = GatewayOptions.ApiKey();

        var list = new Command("list", "One JSON line per model: its versions on disk and the active one.");
        list.SetAction((result, cancellationToken) =>
            ListAsync(result.GetValue(gateway)!, GatewayOptions.ApiKeyOf(result, apiKey), Console.Out, cancellationToken));

        var name = new Argument<string>("name") { Description = "The model's name (its folder in the repository)." };
        var version = new Argument<string>("version") { Description = "The version to make active (its folder)." };
        var activate = new Command("activate", "Make VERSION the active version of model NAME on every silo, without restarting them.") { name, version };
        activate.SetAction((result, cancellationToken) =>
            ActivateAsync(result.GetValue(gateway)!, GatewayOptions.ApiKeyOf(result, apiKey), result.GetValue(name)!, result.GetValue(version)!, Console.Out, cancellationToken));

        return new Command("models", "List the model versions of a running cluster, or switch the active one (through the REST gateway).")
        {
            gateway, apiKey, list, activate,
        };
    }

    // A model or version that is missing (404) or does not load (422) is a set-up error, as for `score`.
    public static Task<int> ListAsync(string gateway, string? apiKey, TextWriter output, CancellationToken cancellationToken) =>
        GatewayOptions.CallAsync("models list", gateway, apiKey, Scope, ExitCodes.Setup, http => http.GetAsync("models", cancellationToken), async body =>
        {
            using JsonDocument document = JsonDocument.Parse(body);
            foreach (JsonElement model in document.RootElement.GetProperty("models").EnumerateArray())
            {
                await output.WriteLineAsync(model.GetRawText());
            }
        }, cancellationToken);

    public static Task<int> ActivateAsync(string gateway, string? apiKey, string name, string version, TextWriter output, CancellationToken cancellationToken) =>
        GatewayOptions.CallAsync(
            "models activate",
            gateway,
            apiKey,
            Scope,
            ExitCodes.Setup,
            http => http.PutAsJsonAsync($"models/{Uri.EscapeDataString(name)}/active", new { version }, cancellationToken),
            async body => await output.WriteLineAsync(Gateway.OneLine(body)),
            cancellationToken);
}
