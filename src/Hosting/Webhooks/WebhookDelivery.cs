namespace ArtGrid.Hosting.Webhooks;

/// <summary>
/// A job's webhook as the caller sees it (the gateway's job resource embeds it as <c>callback</c>; Redis keeps it as
/// JSON with web defaults at <see cref="RedisKey"/>): where it goes and how delivery went. It holds nothing secret.
/// </summary>
/// <param name="Url">The callback URL, as registered.</param>
/// <param name="State">One of <see cref="WebhookStates"/>.</param>
/// <param name="Attempts">Requests made so far (0 until the job's event arrives).</param>
/// <param name="LastStatusCode">The HTTP status of the last attempt, when the receiver answered.</param>
/// <param name="LastError">Why the last attempt failed, when it did (a status, a timeout, a connection error, a refusal).</param>
/// <param name="LastAttemptAt">When the last attempt started.</param>
/// <param name="DeliveredAt">When a receiver answered 2xx.</param>
public sealed record WebhookDelivery(
    string Url,
    string State,
    int Attempts = 0,
    int? LastStatusCode = null,
    string? LastError = null,
    DateTimeOffset? LastAttemptAt = null,
    DateTimeOffset? DeliveredAt = null)
{
    public static string RedisKey(string jobId) => $"artgrid:webhook:{jobId}";

    /// <summary>True once nothing more will be sent: delivered, or failed for good.</summary>
    public bool IsFinal => State is WebhookStates.Delivered or WebhookStates.Failed;
}

/// <summary>The states of a <see cref="WebhookDelivery"/>.</summary>
public static class WebhookStates
{
    /// <summary>Registered; the job's event has not been delivered yet (not arrived, or being retried).</summary>
    public const string Pending = "pending";

    /// <summary>A receiver answered 2xx. Final.</summary>
    public const string Delivered = "delivered";

    /// <summary>Every attempt failed, or the policy refused the URL. Final.</summary>
    public const string Failed = "failed";
}
