using System.Text.Json;
using ArtGrid.Grains;
using ArtGrid.Hosting.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Caching;

/// <summary>Cache options ("ArtGrid:Cache").</summary>
public sealed class ResultCacheOptions
{
    public const string SectionName = "ArtGrid:Cache";

    /// <summary>How long a score stays cached; a new model version never sees an old one's scores (the key holds it).</summary>
    [System.ComponentModel.DataAnnotations.Range(0.01, 24 * 3650)]
    public double TimeToLiveHours { get; set; } = 24 * 30;
}

/// <summary>
/// Scores in Redis by model version and content: "artgrid:score:v2:{model}:{sha256}" holds the score as JSON (v2: with
/// the file's metadata evidence, read in the decode sandbox since; v1 entries had only the pixels' evidence). The
/// cache is a shortcut, never a dependency: when Redis does not answer, the image is scored and the error logged.
/// </summary>
public sealed partial class RedisResultCache(RedisConnection redis, IOptions<ResultCacheOptions> options, ILogger<RedisResultCache> logger) : IResultCache
{
    public async ValueTask<CachedScore?> TryGetAsync(string sha256, string modelId, CancellationToken cancellationToken = default)
    {
        try
        {
            RedisValue value = await (await redis.GetDatabaseAsync()).StringGetAsync(Key(sha256, modelId));
            return value.IsNull ? null : Parse(value!);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogCacheUnavailable(ex);
            return null;
        }
    }

    public async ValueTask SetAsync(string sha256, string modelId, CachedScore score, CancellationToken cancellationToken = default)
    {
        try
        {
            string value = JsonSerializer.Serialize(score, Json);
            await (await redis.GetDatabaseAsync()).StringSetAsync(Key(sha256, modelId), value, TimeSpan.FromHours(options.Value.TimeToLiveHours));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogCacheUnavailable(ex);
        }
    }

    public static string Key(string sha256, string modelId) => $"artgrid:score:v2:{modelId}:{sha256}";

    // JSON; anything else (an entry of an older format) is a miss, and the image is scored again.
    private static CachedScore? Parse(string value)
    {
        try
        {
            return JsonSerializer.Deserialize<CachedScore>(value, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "The Redis result cache did not answer; scoring without it")]
    private partial void LogCacheUnavailable(Exception exception);
}
