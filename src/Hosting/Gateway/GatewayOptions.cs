using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Gateway;

/// <summary>The REST gateway ("ArtGrid:Gateway"): limits, waiting, API keys and the per-key rate limit.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "ArtGrid:Gateway";

    /// <summary>Largest image accepted (bytes, after base64 decoding); a larger one is answered 413 before anything is uploaded.</summary>
    [Range(1, 1024 * 1024 * 1024)]
    public int MaxImageBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Largest request body (bytes): every image of a job together, base64 or multipart overhead included; 413 past it.</summary>
    [Range(1, 4L * 1024 * 1024 * 1024)]
    public long MaxRequestBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// The longest <c>?wait=</c> a caller may ask of <c>POST /v1/jobs</c>, and how long <c>POST /v1/score</c> waits: past
    /// it the answer is 202 with the job's address, and the job goes on.
    /// </summary>
    [Range(0, 3600)]
    public double MaxWaitSeconds { get; set; } = 30;

    /// <summary>How long a closed intake (every device saturated) is believed before the cluster is asked again.</summary>
    [Range(0, 60)]
    public double IntakeStatusCacheSeconds { get; set; } = 0.25;

    /// <summary>The keys that may call the API: a name, the SHA-256 of the key (never the key itself) and its scopes.</summary>
    [ValidateEnumeratedItems]
    public ApiKeyOptions[] ApiKeys { get; set; } = [];

    [Required, ValidateObjectMembers]
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// Reviewers' decisions kept, and copies of reviewed images (by SHA-256, no expiry) for the export: past it the
    /// oldest go first. Redis holds up to this many images of the platform's own size.
    /// </summary>
    [Range(1, 1_000_000)]
    public int ReviewsKept { get; set; } = 10_000;

    public TimeSpan MaxWait => TimeSpan.FromSeconds(MaxWaitSeconds);
}

/// <summary>One API key: <see cref="Hash"/> is the lower-case hex SHA-256 of the key's UTF-8 text.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>Who holds the key: in logs, metrics and the rate limiter's partition, never the key.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,100}$")]
    public string Name { get; set; } = "";

    [Required, RegularExpression("^[0-9a-f]{64}$", ErrorMessage = "Hash must be the lower-case hex SHA-256 of the key (64 characters).")]
    public string Hash { get; set; } = "";

    /// <summary>Any of "score", "read", "review", "admin" ("admin" also grants the others).</summary>
    [Required, MinLength(1)]
    public string[] Scopes { get; set; } = [];
}

/// <summary>A token bucket per API key: <see cref="Permits"/> requests, refilled every <see cref="PeriodSeconds"/>; 429 when empty.</summary>
public sealed class RateLimitOptions
{
    [Range(1, 1_000_000)]
    public int Permits { get; set; } = 200;

    [Range(0.001, 86_400)]
    public double PeriodSeconds { get; set; } = 1;
}

[OptionsValidator]
internal sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>;
