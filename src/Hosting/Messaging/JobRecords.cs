using System.Buffers.Binary;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Review;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// Job records in Redis: one JSON string per job id ("artgrid:job:{id}"), kept for a configurable time, and beside it
/// the job's activation maps ("artgrid:job:{id}:maps", a hash of image index to map) and the claim-check addresses of
/// its images ("artgrid:job:{id}:images"), kept as long. A completed job's scored images also enter the review queues
/// (<see cref="ReviewKeys"/>), the newest <paramref name="reviewQueueLength"/> of each.
/// </summary>
public sealed class RedisJobRecords(
    RedisConnection redis,
    TimeSpan timeToLive,
    int reviewQueueLength = RedisJobRecords.DefaultReviewQueueLength,
    TimeSpan? claimCheckTimeToLive = null)
{
    public const int DefaultReviewQueueLength = 10_000;

    /// <summary>The largest map kept (cells): a ResNet's last stages at 224 are 7 x 7 or 14 x 14; this bounds a job's maps at 64 x 16 KiB.</summary>
    public const int MaxMapCells = 64 * 64;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public TimeSpan TimeToLive => timeToLive;

    public int ReviewQueueLength => reviewQueueLength;

    /// <summary>How long the copies of images sent inline stay readable for reviewers (as claim-checked bytes do).</summary>
    public TimeSpan ClaimCheckTimeToLive { get; } = claimCheckTimeToLive ?? TimeSpan.FromHours(24);

    public async Task<JobRecord?> GetAsync(string jobId)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        RedisValue value = await db.StringGetAsync(JobRecord.RedisKey(jobId));
        return value.IsNull ? null : JsonSerializer.Deserialize<JobRecord>((string)value!, Json);
    }

    /// <summary>Records that a producer accepted the job and sent it, unless the job already has a record.</summary>
    public async Task AcceptedAsync(string jobId, DateTimeOffset at)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        var record = new JobRecord { JobId = jobId, Status = JobStatus.Accepted, AcceptedAt = at };
        await db.StringSetAsync(JobRecord.RedisKey(jobId), JsonSerializer.Serialize(record, Json), timeToLive, When.NotExists);
    }

    // Set the received record over no record, or over an "accepted" one (carrying its acceptedAt over), in one round
    // trip: every job the gateway sends meets an accepted record here. A finished record (completed or rejected) is
    // left as it is and returned, so that a redelivery learns in the same round trip what became of the job.
    private const string ReceivedScript = """
        local current = redis.call('GET', KEYS[1])
        if not current then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        if string.find(current, '"status":"accepted"', 1, true) then
          local accepted = string.match(current, '"acceptedAt":("[^"]*")')
          local received = ARGV[1]
          if accepted then
            received = string.gsub(received, '"acceptedAt":null', function() return '"acceptedAt":' .. accepted end, 1)
          end
          redis.call('SET', KEYS[1], received, 'PX', ARGV[2])
          return 2
        end
        if string.find(current, '"status":"completed"', 1, true) or string.find(current, '"status":"rejected"', 1, true) then
          return current
        end
        return 0
        """;

    /// <summary>
    /// Records that a command arrived: over no record, or over the gateway's "accepted" one (keeping when it was
    /// accepted). A redelivery keeps the first record, and a finished one is never taken back: it is returned instead
    /// (null otherwise). In the same round trip, where a reviewer can see each image of <paramref name="images"/> sent
    /// as bytes while the claim check lasts: its claim-check address, or for an image the message carried inline, a
    /// copy under a claim-check address of its own (images sent by URL or key have none).
    /// </summary>
    public async Task<JobRecord?> ReceivedAsync(string jobId, DateTimeOffset at, IReadOnlyList<ImageReference>? images = null)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        var record = new JobRecord { JobId = jobId, Status = JobStatus.Received, ReceivedAt = at };
        var addresses = new List<HashEntry>();
        var inline = new List<(RedisKey Key, byte[] Bytes)>();
        for (int index = 0; index < (images?.Count ?? 0); index++)
        {
            ImageReference image = images![index];
            if (image.Url is not null || image.Key is not null || image.Sha256 is not null)
            {
                continue;
            }

            if (ImageData.AddressOf(image.Data) is { } address)
            {
                addresses.Add(new HashEntry(index, address.ToString()));
            }
            else if (ImageData.IsInline(image.Data))
            {
                (Uri copy, RedisKey key) = RedisMessageDataRepository.NewAddress();
                addresses.Add(new HashEntry(index, copy.ToString()));
                inline.Add((key, await image.Data!.Value));
            }
        }

        RedisValue[] arguments = [JsonSerializer.Serialize(record, Json), (long)timeToLive.TotalMilliseconds];
        RedisResult result;
        if (addresses.Count == 0)
        {
            result = await db.ScriptEvaluateAsync(ReceivedScript, [JobRecord.RedisKey(jobId)], arguments);
        }
        else
        {
            ITransaction write = db.CreateTransaction();
            Task<RedisResult> received = write.ScriptEvaluateAsync(ReceivedScript, [JobRecord.RedisKey(jobId)], arguments);
            foreach ((RedisKey key, byte[] bytes) in inline)
            {
                _ = write.StringSetAsync(key, bytes, ClaimCheckTimeToLive);
            }

            string imagesKey = JobRecord.ImagesRedisKey(jobId);
            _ = write.HashSetAsync(imagesKey, [.. addresses]);
            _ = write.KeyExpireAsync(imagesKey, timeToLive);
            await write.ExecuteAsync();
            result = await received;
        }

        return Finished(result);
    }

    /// <summary>The claim-check address of image <paramref name="index"/> of a job, or null (sent by URL or key, or the record expired).</summary>
    public async Task<Uri?> GetImageAddressAsync(string jobId, int index)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        RedisValue value = await db.HashGetAsync(JobRecord.ImagesRedisKey(jobId), index);
        return value.IsNull ? null : new Uri((string)value!);
    }

    /// <summary>
    /// The completed record, the activation maps of the images that have one (bounded by <see cref="MaxMapCells"/>),
    /// and the job's scored images in the review queues: written together, in one transaction (one round trip). The
    /// first completed record of a job stands: over one, the record is left as it is and its verdict is returned (else
    /// <paramref name="verdict"/>), so that every attempt publishes and answers the same verdict.
    /// </summary>
    public async Task<JobVerdict> CompletedAsync(JobVerdict verdict)
    {
        HashEntry[] maps = [.. verdict.Images
            .Where(image => image.ActivationMap is { } map && map.Logits.Length == map.Height * map.Width && map.Logits.Length is > 0 and <= MaxMapCells)
            .Select(image => new HashEntry(image.Index, EncodeMap(image.ActivationMap!)))];
        JobRecord? standing = await FinishAsync(
            new JobRecord
            {
                JobId = verdict.JobId,
                Status = JobStatus.Completed,
                CompletedAt = verdict.CompletedAt,
                Verdict = verdict,
            },
            write =>
            {
                if (maps.Length > 0)
                {
                    string key = JobRecord.MapsRedisKey(verdict.JobId);
                    _ = write.HashSetAsync(key, maps);
                    _ = write.KeyExpireAsync(key, timeToLive);
                }

                ReviewKeys.Enqueue(write, verdict, reviewQueueLength);
            });
        return standing?.Verdict ?? verdict;
    }

    // Marks a completed record as published (its first "publishedAt":null, which is the record's own: it comes before
    // the verdict), keeping its time to live; anything else is left as it is.
    private const string PublishedScript = """
        local current = redis.call('GET', KEYS[1])
        if current and string.find(current, '"status":"completed"', 1, true) then
          local marked, count = string.gsub(current, '"publishedAt":null', function() return '"publishedAt":' .. ARGV[1] end, 1)
          if count > 0 then
            redis.call('SET', KEYS[1], marked, 'KEEPTTL')
          end
        end
        return false
        """;

    /// <summary>
    /// Marks the completed record of <paramref name="jobId"/> as published at <paramref name="at"/>, without waiting
    /// for Redis: a mark that is lost only costs a redelivery of the job one more publication of the same verdict
    /// (consumers of <c>ImagesScored</c> deduplicate by job id), where waiting would cost every job a round trip.
    /// </summary>
    public async Task PublishedAsync(string jobId, DateTimeOffset at)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        _ = db.ScriptEvaluateAsync(PublishedScript, [JobRecord.RedisKey(jobId)], [JsonSerializer.Serialize(at, Json)], CommandFlags.FireAndForget);
    }

    public Task RejectedAsync(ScoreImagesRejected rejection) => FinishAsync(new JobRecord
    {
        JobId = rejection.JobId,
        Status = JobStatus.Rejected,
        CompletedAt = rejection.RejectedAt,
        Rejection = rejection,
    });

    /// <summary>The activation map of one image of a completed job, or null when it has none (or its record expired).</summary>
    public async Task<ActivationMap?> GetMapAsync(string jobId, int index)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        RedisValue value = await db.HashGetAsync(JobRecord.MapsRedisKey(jobId), index);
        return value.IsNull ? null : DecodeMap((byte[])value!);
    }

    // Two little-endian int32 (height, width), then the logits as float32, row-major.
    internal static byte[] EncodeMap(ActivationMap map)
    {
        var bytes = new byte[8 + (4 * map.Logits.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, map.Height);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), map.Width);
        for (int i = 0; i < map.Logits.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(8 + (4 * i)), map.Logits[i]);
        }

        return bytes;
    }

    internal static ActivationMap? DecodeMap(byte[] bytes)
    {
        if (bytes.Length < 8)
        {
            return null;
        }

        int height = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        int width = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4));
        if (height < 1 || width < 1 || (long)height * width > MaxMapCells || bytes.Length != 8 + (4 * height * width))
        {
            return null;
        }

        var logits = new float[height * width];
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (4 * i)));
        }

        return new ActivationMap(height, width, logits);
    }

    // A finished record keeps the times its job was first accepted and received (copied over here, as the received
    // script copies acceptedAt); a completed record is never replaced: it is returned instead.
    private const string FinishScript = """
        local current = redis.call('GET', KEYS[1])
        if current and string.find(current, '"status":"completed"', 1, true) then
          return current
        end
        local record = ARGV[1]
        if current then
          for _, name in ipairs({'acceptedAt', 'receivedAt'}) do
            local at = string.match(current, '"' .. name .. '":("[^"]*")')
            if at then
              record = string.gsub(record, '"' .. name .. '":null', function() return '"' .. name .. '":' .. at end, 1)
            end
          end
        end
        redis.call('SET', KEYS[1], record, 'PX', ARGV[2])
        return false
        """;

    // The record and what goes with it in one transaction, one round trip (the record first, so that a reader never
    // finds a queue entry without its record). Returns the completed record that was there already, if any.
    private async Task<JobRecord?> FinishAsync(JobRecord record, Action<ITransaction>? alongside = null)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        ITransaction write = db.CreateTransaction();
        Task<RedisResult> finished = write.ScriptEvaluateAsync(
            FinishScript,
            [JobRecord.RedisKey(record.JobId)],
            [JsonSerializer.Serialize(record, Json), (long)timeToLive.TotalMilliseconds]);
        alongside?.Invoke(write);
        await write.ExecuteAsync();
        return Finished(await finished);
    }

    // The record a script returned (a finished one it found), or null (it returned a number or nothing).
    private static JobRecord? Finished(RedisResult result) =>
        result.Resp2Type == ResultType.BulkString && (string?)result is { } json ? JsonSerializer.Deserialize<JobRecord>(json, Json) : null;
}
