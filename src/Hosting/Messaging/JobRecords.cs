using System.Text.Json;
using ArtGrid.Contracts;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Messaging;

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

    public Task CompletedAsync(JobVerdict verdict) => FinishAsync(new JobRecord
    {
        JobId = verdict.JobId,
        Status = JobStatus.Completed,
        CompletedAt = verdict.CompletedAt,
        Verdict = verdict,
    });

    public Task RejectedAsync(ScoreImagesRejected rejection) => FinishAsync(new JobRecord
    {
        JobId = rejection.JobId,
        Status = JobStatus.Rejected,
        CompletedAt = rejection.RejectedAt,
        Rejection = rejection,
    });

    // A finished record keeps the time its command was first received.
    private async Task FinishAsync(JobRecord record)
    {
        JobRecord finished = record with { ReceivedAt = (await GetAsync(record.JobId))?.ReceivedAt };
        IDatabase db = await redis.GetDatabaseAsync();
        await db.StringSetAsync(JobRecord.RedisKey(record.JobId), JsonSerializer.Serialize(finished, Json), timeToLive);
    }
}
