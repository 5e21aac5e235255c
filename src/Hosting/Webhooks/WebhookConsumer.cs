using ArtGrid.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Webhooks;

/// <summary>
/// Delivers a job's webhook when its <see cref="ImagesScored"/> or <see cref="ScoreImagesRejected"/> arrives: one
/// signed POST per attempt, each recorded in the job's <see cref="WebhookDelivery"/>. A failed attempt throws, so that
/// the endpoint's message retry tries again after the back-off; the last attempt (or a URL the policy refuses) records
/// "failed" and returns, so a dead receiver never puts an event in the "_error" queue. Events reach every queue bound
/// to their type: a job without a registration, or whose webhook is already delivered or failed (a redelivered or
/// republished event), is left alone. Delivery is at least once: a receiver deduplicates on "ArtGrid-Webhook-Id".
/// </summary>
public sealed partial class WebhookConsumer(
    WebhookRegistrations registrations,
    WebhookSender sender,
    TimeProvider time,
    IOptions<WebhookOptions> options,
    ILogger<WebhookConsumer> logger) : IConsumer<ImagesScored>, IConsumer<ScoreImagesRejected>
{
    public Task Consume(ConsumeContext<ImagesScored> context) =>
        DeliverAsync(context, context.Message.JobId, WebhookEventTypes.JobCompleted, () => WebhookSender.Body(context.Message));

    public Task Consume(ConsumeContext<ScoreImagesRejected> context) =>
        ScoreImagesValidator.IsValidJobId(context.Message.JobId)
            ? DeliverAsync(context, context.Message.JobId, WebhookEventTypes.JobRejected, () => WebhookSender.Body(context.Message))
            : Task.CompletedTask;

    private async Task DeliverAsync(ConsumeContext context, string jobId, string type, Func<byte[]> body)
    {
        if (await registrations.GetAsync(jobId) is not { } delivery)
        {
            return;
        }

        if (delivery.IsFinal)
        {
            LogAlreadyFinal(jobId, delivery.State);
            return;
        }

        int maxAttempts = options.Value.MaxAttempts;
        int attempt = delivery.Attempts + 1;
        // The stored count survives a redelivery to another process; the retry count covers a save that did not land.
        bool last = attempt >= maxAttempts || context.GetRetryAttempt() >= maxAttempts - 1;
        DateTimeOffset startedAt = time.GetUtcNow();
        Uri url = new(delivery.Url);
        WebhookAttempt result = await sender.SendAsync(url, $"{jobId}:{type}", body(), context.CancellationToken);
        if (result.Delivered)
        {
            await registrations.SaveAsync(jobId, delivery with
            {
                State = WebhookStates.Delivered,
                Attempts = attempt,
                LastStatusCode = result.StatusCode,
                LastError = null,
                LastAttemptAt = startedAt,
                DeliveredAt = time.GetUtcNow(),
            });
            LogDelivered(jobId, type, url.Host, attempt);
            return;
        }

        bool final = last || result.Permanent;
        await registrations.SaveAsync(jobId, delivery with
        {
            State = final ? WebhookStates.Failed : WebhookStates.Pending,
            Attempts = attempt,
            LastStatusCode = result.StatusCode,
            LastError = result.Error,
            LastAttemptAt = startedAt,
        });
        if (final)
        {
            LogFailed(jobId, type, url.Host, attempt, result.Error ?? "");
            return;
        }

        LogAttemptFailed(jobId, type, url.Host, attempt, maxAttempts, result.Error ?? "");
        throw new WebhookAttemptFailedException($"Webhook {jobId}:{type} to {url.Host}, attempt {attempt} of {maxAttempts}: {result.Error}");
    }

    // Hosts only: a callback URL's path or query may carry the receiver's own token.
    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Webhook {JobId}:{Type} delivered to {Host} (attempt {Attempt})")]
    private partial void LogDelivered(string jobId, string type, string host, int attempt);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Information, Message = "Webhook {JobId}:{Type} to {Host}: attempt {Attempt} of {MaxAttempts} failed ({Error}); retrying")]
    private partial void LogAttemptFailed(string jobId, string type, string host, int attempt, int maxAttempts, string error);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Warning, Message = "Webhook {JobId}:{Type} to {Host} failed for good after {Attempt} attempt(s): {Error}")]
    private partial void LogFailed(string jobId, string type, string host, int attempt, string error);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Debug, Message = "Webhook of job {JobId} is already {State}; event ignored")]
    private partial void LogAlreadyFinal(string jobId, string state);
}

/// <summary>A webhook attempt failed and another will follow: thrown for the endpoint's message retry to act on.</summary>
public sealed class WebhookAttemptFailedException(string message) : Exception(message);
