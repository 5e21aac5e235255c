using System.Net;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ArtGrid.Cli;

/// <summary>
/// What the commands that call the REST gateway (<c>models list</c>, <c>models activate</c>, <c>jobs get</c>) share: the
/// address, the API key (<c>--api-key</c>, else <c>$ARTGRID_API_KEY</c>) sent as <c>Authorization: Bearer KEY</c>, and
/// how an answer becomes an exit code and a line on stderr. The gateway answers errors as RFC 9457 problem details
/// (<c>{"type","title","status","detail","code"}</c>); older gateways answered <c>{"error": "..."}</c>, read as well.
/// </summary>
public static class Gateway
{
    public const string DefaultAddress = "http://127.0.0.1:8080";
    public const string AddressVariable = "ARTGRID_GATEWAY";
    public const string ApiKeyVariable = "ARTGRID_API_KEY";

    private static readonly JsonWriterOptions OneLineWriter = new() { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The gateway's base address (with a trailing '/', so that relative paths append), or null when it is not an http(s) URL.</summary>
    public static Uri? Address(string gateway) =>
        Uri.TryCreate(gateway.EndsWith('/') ? gateway : gateway + "/", UriKind.Absolute, out Uri? address) && address.Scheme is "http" or "https"
            ? address
            : null;

    /// <summary>The API key: the option's value, else the environment's; null when neither is set (or either is blank).</summary>
    public static string? ApiKey(string? option, string? environment) =>
        option is not null ? (string.IsNullOrWhiteSpace(option) ? null : option.Trim())
        : string.IsNullOrWhiteSpace(environment) ? null : environment.Trim();

    /// <summary>A client for the gateway at <paramref name="address"/> that sends <paramref name="apiKey"/> as a bearer token when there is one.</summary>
    public static HttpClient CreateClient(Uri address, string? apiKey, TimeSpan timeout)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = timeout };
        if (apiKey is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return http;
    }

    /// <summary>
    /// The exit code of an answer: 0 success, 2 a request the gateway calls malformed (400), 4 refused (401, 403),
    /// <paramref name="notFound"/> for 404 (what "not found" means differs by command), 3 anything else (a model that
    /// does not load, a gateway or cluster error).
    /// </summary>
    public static int ExitCode(HttpStatusCode status, int notFound) => (int)status switch
    {
        >= 200 and < 300 => ExitCodes.Ok,
        400 => ExitCodes.Usage,
        401 or 403 => ExitCodes.Refused,
        404 => notFound,
        _ => ExitCodes.Setup,
    };

    /// <summary>The reason an error answer gives: the problem's <c>detail</c>, else its <c>title</c>, else <c>error</c>, else the body as it is.</summary>
    public static string Reason(string body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (string name in new[] { "detail", "title", "error" })
                {
                    if (document.RootElement.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
                    {
                        return text;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // not JSON: the body as it is
        }

        return body.Trim();
    }

    /// <summary>
    /// The stderr line for an error answer: "artgrid COMMAND: STATUS REASON: why", and for 401 and 403 what to do
    /// about the key.
    /// </summary>
    public static string Describe(string command, HttpStatusCode status, string? reasonPhrase, string body, string scope)
    {
        string reason = Reason(body);
        string line = $"artgrid {command}: {(int)status} {reasonPhrase}{(reason.Length > 0 ? $": {reason}" : "")}";
        return status switch
        {
            HttpStatusCode.Unauthorized => $"{line} (the gateway wants an API key: pass --api-key KEY or set ${ApiKeyVariable})",
            HttpStatusCode.Forbidden => $"{line} (the API key lacks the '{scope}' scope)",
            _ => line,
        };
    }

    /// <summary><paramref name="json"/> as one line (no indentation, non-ASCII text kept as it is).</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static string OneLine(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, OneLineWriter))
        {
            document.RootElement.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
