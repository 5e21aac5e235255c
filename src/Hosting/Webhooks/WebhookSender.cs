using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Webhooks;

/// <summary>
/// Makes one webhook request: POSTs a signed JSON body through <see cref="GuardedHttpHandler"/> (the same outbound
/// policy as URL image fetching: allowed hosts, public addresses unless configured otherwise, no proxy, HTTP/1.1) and
/// reports what came of it. It never follows a redirect: a 3xx is a failed attempt. It never throws for the receiver's
/// sake; only the caller's own cancellation comes back as an exception.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly WebhookOptions _options;
    private readonly HttpClient _client;
    private readonly TimeProvider _time;

    public WebhookSender(IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookSender> logger)
    {
        _options = options.Value;
        _time = time;
        _client = GuardedHttpHandler.CreateClient(
            new OutboundPolicy(_options.AllowedHosts, _options.AllowPrivateNetworks), $"{WebhookOptions.SectionName}:AllowedHosts", logger);
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("ArtGrid-Webhooks/1");
    }

    /// <summary>The body for a completed job: <c>{"type":"job.completed","jobId":…,"verdict":{…}}</c>.</summary>
    public static byte[] Body(ImagesScored scored) =>
        JsonSerializer.SerializeToUtf8Bytes(new WebhookBody(WebhookEventTypes.JobCompleted, scored.JobId, scored.Verdict, null), WebhookRegistrations.Json);

    /// <summary>The body for a rejected job: <c>{"type":"job.rejected","jobId":…,"rejection":{…}}</c>.</summary>
    public static byte[] Body(ScoreImagesRejected rejected) =>
        JsonSerializer.SerializeToUtf8Bytes(new WebhookBody(WebhookEventTypes.JobRejected, rejected.JobId, null, rejected), WebhookRegistrations.Json);

    /// <summary>POSTs <paramref name="body"/> to <paramref name="url"/>, signed now, within the configured timeout.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<WebhookAttempt> SendAsync(Uri url, string webhookId, byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(WebhookSignature.IdHeaderName, webhookId);
        request.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Sign(_options.SigningSecrets(), _time.GetUtcNow().ToUnixTimeSeconds(), body));
        try
        {
            using HttpResponseMessage response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            int status = (int)response.StatusCode;
            return status is >= 200 and <= 299
                ? new WebhookAttempt(true, status, null, Permanent: false)
                : new WebhookAttempt(false, status, $"HTTP {status}", Permanent: false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && GuardedHttpHandler.FindRefusal(ex) is { } refused)
        {
            // The policy will refuse this URL every time: no point retrying.
            return new WebhookAttempt(false, null, refused.Message, Permanent: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttempt(false, null, $"no response within {_options.TimeoutSeconds:0.#} s", Permanent: false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttempt(false, null, ex.Message, Permanent: false);
        }
    }

    public void Dispose() => _client.Dispose();

    private sealed record WebhookBody(
        string Type,
        string JobId,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JobVerdict? Verdict,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ScoreImagesRejected? Rejection);
}

/// <summary>What one webhook request came to.</summary>
/// <param name="Delivered">The receiver answered 2xx.</param>
/// <param name="StatusCode">The receiver's HTTP status, when it answered.</param>
/// <param name="Error">Why it failed, when it did; never holds a secret.</param>
/// <param name="Permanent">The outbound policy refused the URL: retrying cannot help.</param>
public sealed record WebhookAttempt(bool Delivered, int? StatusCode, string? Error, bool Permanent);
