using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ArtGrid.Hosting.Operations;

/// <summary>
/// The body of <c>/health/*</c>: the overall status and, for each check, its name, status, description and duration,
/// so that a 503 says which condition is missing. Exceptions give their message only (no stack, no connection string).
/// <code>{"status":"Unhealthy","durationMs":3.2,"checks":[{"name":"redis","status":"Healthy","description":"PONG from 127.0.0.1:6379 in 0.4 ms","durationMs":0.9}]}</code>
/// </summary>
internal static class HealthReportJson
{
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        json.WriteStartArray("checks");
        foreach ((string name, HealthReportEntry entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", entry.Description ?? entry.Exception?.Message);
            json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
