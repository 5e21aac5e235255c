using System.Text.Json;
using ArtGrid.Abstractions;
using StackExchange.Redis;

namespace ArtGrid.Messaging;

/// <summary>Job records in Redis: one JSON string per job id ("artgrid:job:{id}"), kept for a configurable time.</summary>
public sealed class RedisJobRecords(RedisConnection redis, TimeSpan timeToLive)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<JobRecord?> GetAsync(string jobId)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        RedisValue value = await db.StringGetAsync(JobRecord.RedisKey(jobId));
        return value.IsNull ? null : JsonSerializer.Deserialize<JobRecord>((string)value!, Json);
    }

    /// <summary>Records that a command arrived, unless the job already has a record (a redelivery keeps the first).</summary>
    public async Task ReceivedAsync(string jobId, DateTimeOffset at)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        var record = new JobRecord { JobId = jobId, Status = JobStatus.Received, ReceivedAt = at };
        await db.StringSetAsync(JobRecord.RedisKey(jobId), JsonSerializer.Serialize(record, Json), timeToLive, When.NotExists);
    }

    public async Task CompletedAsync(JobVerdict verdict) => await SetAsync(new JobRecord
    {
        JobId = verdict.JobId,
        Status = JobStatus.Completed,
        ReceivedAt = (await GetAsync(verdict.JobId))?.ReceivedAt,
        CompletedAt = verdict.CompletedAt,
        Verdict = verdict,
    });

    public async Task RejectedAsync(ScoreImagesRejected rejection) => await SetAsync(new JobRecord
    {
        JobId = rejection.JobId,
        Status = JobStatus.Rejected,
        ReceivedAt = (await GetAsync(rejection.JobId))?.ReceivedAt,
        CompletedAt = rejection.RejectedAt,
        Rejection = rejection,
    });

    private async Task SetAsync(JobRecord record)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        await db.StringSetAsync(JobRecord.RedisKey(record.JobId), JsonSerializer.Serialize(record, Json), timeToLive);
    }
}
