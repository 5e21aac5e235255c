using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Hosting.Webhooks;

/// <summary>
/// Per-job webhooks ("ArtGrid:Webhooks"): whether callers may name a <c>callbackUrl</c>, where it may point, how
/// requests are signed and how long a dead receiver is retried. Off unless configured. The signing secrets are never
/// logged, stored in Redis or put in a message.
/// </summary>
public sealed class WebhookOptions : IValidatableObject
{
    public const string SectionName = "ArtGrid:Webhooks";

    /// <summary>Shortest accepted secret: 32 characters, 256 bits of a random hex or base64 string at the least.</summary>
    public const int MinSecretLength = 32;

    /// <summary>
    /// The longest a delivery's whole retry schedule may wait: a delivery holds its event unacknowledged between
    /// attempts, and RabbitMQ closes a channel whose message stays unacknowledged past its consumer timeout (30 min by default).
    /// </summary>
    public static readonly TimeSpan MaxSchedule = TimeSpan.FromMinutes(15);

    /// <summary>Callback URLs are refused unless this is true, and no webhook consumer runs.</summary>
    public bool Enabled { get; set; }

    /// <summary>The HMAC-SHA256 key of the <c>ArtGrid-Signature</c> header; required when enabled, at least 32 characters.</summary>
    [MinLength(MinSecretLength)]
    public string? SigningSecret { get; set; }

    /// <summary>
    /// Secrets being retired: each adds a <c>v1</c> signature after the one of <see cref="SigningSecret"/>, so receivers
    /// still on an old secret keep verifying while they move to the new one.
    /// </summary>
    [Required]
    public string[] PreviousSigningSecrets { get; set; } = [];

    /// <summary>
    /// Hosts a callback URL may name, matched as "ArtGrid:UrlFetch:AllowedHosts" is: exact names case-insensitively,
    /// "*.example.com" for every subdomain of example.com, IP literals exactly. An empty list allows no host: every
    /// callback is refused until the receivers' hosts are listed.
    /// </summary>
    [Required]
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>
    /// Lets deliveries connect to loopback, private, link-local, CGNAT and other non-public addresses. Leave it off in
    /// production: it is what stops a callback URL from reaching internal services or cloud metadata.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Requests made for one event before its delivery is recorded as failed (the first included).</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The wait after the first failed attempt; each later wait doubles, up to <see cref="MaxBackoffSeconds"/>.</summary>
    [Range(0.01, 3600)]
    public double MinBackoffSeconds { get; set; } = 1;

    [Range(0.01, 3600)]
    public double MaxBackoffSeconds { get; set; } = 60;

    /// <summary>Limit for one attempt: connecting, sending the body and receiving the response headers.</summary>
    [Range(0.1, 120)]
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>Deliveries one process makes at once (each holds its event while it waits to retry).</summary>
    [Range(1, 1000)]
    public int ConcurrentDeliveries { get; set; } = 32;

    /// <summary>
    /// The waits between attempts: <see cref="MinBackoffSeconds"/> doubling each time, capped at
    /// <see cref="MaxBackoffSeconds"/>; one fewer than <see cref="MaxAttempts"/>.
    /// </summary>
    public TimeSpan[] Backoff()
    {
        var waits = new TimeSpan[Math.Clamp(MaxAttempts, 1, 100) - 1];
        for (int i = 0; i < waits.Length; i++)
        {
            waits[i] = TimeSpan.FromSeconds(Math.Min(MaxBackoffSeconds, MinBackoffSeconds * Math.Pow(2, i)));
        }

        return waits;
    }

    /// <summary>The secrets to sign with, current first.</summary>
    internal IReadOnlyList<string> SigningSecrets() =>
        [SigningSecret!, .. PreviousSigningSecrets.Where(s => !string.IsNullOrEmpty(s))];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Enabled && string.IsNullOrEmpty(SigningSecret))
        {
            yield return new ValidationResult($"{nameof(SigningSecret)} is required when webhooks are enabled.", [nameof(SigningSecret)]);
        }

        if (PreviousSigningSecrets?.Any(s => s is not null && s.Length < MinSecretLength) == true)
        {
            yield return new ValidationResult($"Every entry of {nameof(PreviousSigningSecrets)} must have at least {MinSecretLength} characters.", [nameof(PreviousSigningSecrets)]);
        }

        if (MinBackoffSeconds > MaxBackoffSeconds)
        {
            yield return new ValidationResult($"{nameof(MinBackoffSeconds)} must not exceed {nameof(MaxBackoffSeconds)}.", [nameof(MinBackoffSeconds), nameof(MaxBackoffSeconds)]);
        }

        TimeSpan schedule = TimeSpan.FromTicks(Backoff().Sum(w => w.Ticks)) + (TimeSpan.FromSeconds(TimeoutSeconds) * MaxAttempts);
        if (schedule > MaxSchedule)
        {
            yield return new ValidationResult(
                $"{nameof(MaxAttempts)}, the back-off and {nameof(TimeoutSeconds)} add up to {schedule.TotalMinutes:0.#} minutes; at most {MaxSchedule.TotalMinutes:0} are allowed.",
                [nameof(MaxAttempts), nameof(MaxBackoffSeconds)]);
        }
    }
}
