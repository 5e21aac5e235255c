using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Http;
using ArtGrid.Hosting.Messaging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Webhooks;

/// <summary>
/// Which jobs have a callback URL, and how its delivery went: one <see cref="WebhookDelivery"/> per job id in Redis
/// (<see cref="WebhookDelivery.RedisKey"/>), kept as long as job records (<see cref="BusOptions.JobRecordHours"/>). The
/// gateway checks a caller's URL (<see cref="ValidateCallback"/>) and registers it before it sends the job's command,
/// so that the job's event always finds it; an event for a job with no registration delivers nothing.
/// </summary>
public sealed class WebhookRegistrations(RedisConnection redis, IOptions<WebhookOptions> options, IOptions<BusOptions> bus)
{
    /// <summary>Longest callback URL accepted.</summary>
    public const int MaxUrlLength = 2048;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string AllowListSetting = WebhookOptions.SectionName + ":AllowedHosts";

    private readonly WebhookOptions _options = options.Value;

    private TimeSpan TimeToLive => TimeSpan.FromHours(bus.Value.JobRecordHours);

    /// <summary>
    /// Why <paramref name="url"/> cannot be a job's callback, for a 400 answer before the job is accepted, or null when
    /// it can: webhooks disabled, not an absolute http(s) URL, a user name or password in it, too long, a host not on
    /// "ArtGrid:Webhooks:AllowedHosts", or (unless private networks are allowed) a host that is or resolves only to a
    /// non-public address. Delivery checks host and addresses again, at connect time.
    /// </summary>
    public async Task<string?> ValidateCallback(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (ShapeProblem(url) is { } problem)
        {
            return problem;
        }

        var policy = new OutboundPolicy(_options.AllowedHosts, _options.AllowPrivateNetworks);
        if (policy.CheckUrl(url, AllowListSetting) is { } refused)
        {
            return $"callbackUrl refused: {refused}";
        }

        return _options.AllowPrivateNetworks ? null : await AddressProblemAsync(url.IdnHost);
    }

    /// <summary>
    /// Gives job <paramref name="jobId"/> the callback <paramref name="callbackUrl"/> (state "pending"). A job keeps its
    /// first registration: a replayed post of the same job id changes nothing, as a replayed command gets the first
    /// verdict. Returns false in that case. Host and address rules are not checked here (see <see cref="ValidateCallback"/>);
    /// a URL that breaks them is refused at delivery and recorded as failed.
    /// </summary>
    /// <exception cref="InvalidOperationException">Webhooks are disabled.</exception>
    /// <exception cref="ArgumentException">The job id is not valid, or the URL is not an absolute http(s) URL without user info.</exception>
    public async Task<bool> RegisterAsync(string jobId, Uri callbackUrl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callbackUrl);
        if (!_options.Enabled)
        {
            throw new InvalidOperationException(Disabled);
        }

        if (!ScoreImagesValidator.IsValidJobId(jobId))
        {
            throw new ArgumentException($"The job id must be 1 to {ScoreImagesValidator.MaxJobIdLength} printable characters.", nameof(jobId));
        }

        if (ShapeProblem(callbackUrl) is { } problem)
        {
            throw new ArgumentException(problem, nameof(callbackUrl));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var delivery = new WebhookDelivery(callbackUrl.AbsoluteUri, WebhookStates.Pending);
        IDatabase db = await redis.GetDatabaseAsync();
        return await db.StringSetAsync(WebhookDelivery.RedisKey(jobId), Serialize(delivery), TimeToLive, When.NotExists);
    }

    /// <summary>The job's callback and its delivery state, or null when the job has none (or it expired).</summary>
    public async Task<WebhookDelivery?> GetAsync(string jobId)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        RedisValue value = await db.StringGetAsync(WebhookDelivery.RedisKey(jobId));
        return value.IsNull ? null : JsonSerializer.Deserialize<WebhookDelivery>((string)value!, Json);
    }

    /// <summary>Stores the state after an attempt; the time to live starts again, as a finished job record's does.</summary>
    internal async Task SaveAsync(string jobId, WebhookDelivery delivery)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        await db.StringSetAsync(WebhookDelivery.RedisKey(jobId), Serialize(delivery), TimeToLive);
    }

    private static string Serialize(WebhookDelivery delivery) => JsonSerializer.Serialize(delivery, Json);

    private static string Disabled => $"webhooks are disabled ({WebhookOptions.SectionName}:Enabled is false)";

    private string? ShapeProblem(Uri url)
    {
        if (!_options.Enabled)
        {
            return Disabled;
        }

        if (!OutboundPolicy.IsHttpUrl(url))
        {
            return "callbackUrl must be an absolute http or https URL";
        }

        if (url.UserInfo.Length > 0)
        {
            return "callbackUrl must not contain a user name or password";
        }

        return url.AbsoluteUri.Length > MaxUrlLength ? $"callbackUrl is longer than {MaxUrlLength} characters" : null;
    }

    private async Task<string?> AddressProblemAsync(string host)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return OutboundPolicy.IsPublicAddress(literal) ? null : $"callbackUrl refused: {host} is not a public address";
        }

        IPAddress[] addresses;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_options.TimeoutSeconds));
            addresses = await Dns.GetHostAddressesAsync(host, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ArgumentException)
        {
            return $"callbackUrl refused: host '{host}' does not resolve";
        }

        return addresses.Any(OutboundPolicy.IsPublicAddress)
            ? null
            : $"callbackUrl refused: host '{host}' resolves only to addresses that are not public";
    }
}
