using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using ArtGrid.Hosting.Gateway;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Hosting.Webhooks;
using MassTransit;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ArtGrid.Gateway.Jobs;

/// <summary>What became of a submission: the job as it stands, and whether this post was a repeat of an earlier one.</summary>
public sealed record Submission(JobResource Job, bool Repeated);

/// <summary>The bus has no connection to its broker: 503, and the job was not taken.</summary>
public sealed class BrokerUnavailableException(string? description)
    : Exception($"The message broker cannot be reached ({description ?? "the bus is not connected"}); nothing was taken.");

/// <summary>A job id already taken by other images: 409.</summary>
public sealed class IdempotencyConflictException(string jobId)
    : Exception($"Job '{jobId}' was already submitted with other images; use another job id (or Idempotency-Key).")
{
    public string JobId { get; } = jobId;
}

/// <summary>
/// Sends checked jobs to the cluster and waits for them. A job id is taken once: the first post records its images'
/// fingerprint (the SHA-256 of each image's name and bytes or URL) beside the job record; a later post of the same id
/// with the same images is answered from the first job (and waits for it, if asked), with other images it is a
/// conflict. A new job gets its "accepted" record, then its bytes go to the claim check and the command to the queue
/// (declared as the silos declare it, <see cref="ScoreQueue"/>), with the job's priority as the message's.
/// </summary>
public sealed class JobSubmitter(
    IBusControl bus,
    IMessageDataRepository claimCheck,
    RedisJobRecords records,
    RedisConnection redis,
    WebhookRegistrations webhooks,
    ScoreQueueAddress scoreQueue,
    IOptions<BusOptions> busOptions,
    TimeProvider time)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The job's resource as it stands, or null when there is no record of it.</summary>
    public async Task<JobResource?> GetAsync(string jobId)
    {
        // Both reads go out together: one round trip on the shared connection.
        Task<JobRecord?> record = records.GetAsync(jobId);
        Task<WebhookDelivery?> callback = webhooks.GetAsync(jobId);
        await Task.WhenAll(record, callback);
        return record.Result is { } found ? JobResource.Of(found, callback.Result) : null;
    }

    /// <summary>
    /// Submits <paramref name="job"/> (or finds its earlier submission) and waits up to <paramref name="wait"/> for it
    /// to end. A new job's webhook is registered before its command is sent, so that the job's event always finds it.
    /// </summary>
    /// <exception cref="IdempotencyConflictException">The job id was taken by other images.</exception>
    /// <exception cref="BrokerUnavailableException">The bus is not connected: nothing was taken.</exception>
    public async Task<Submission> SubmitAsync(IncomingJob job, TimeSpan wait, CancellationToken cancellationToken)
    {
        // A bus without its broker would hold the send until the broker comes back: refuse at once instead.
        if (bus.CheckHealth() is { Status: BusHealthStatus.Unhealthy } health)
        {
            throw new BrokerUnavailableException(health.Description);
        }

        string fingerprint = JobFingerprint.Of(job);
        IDatabase db = await redis.GetDatabaseAsync();
        string key = JobRecord.SubmissionRedisKey(job.JobId);
        bool first = await db.StringSetAsync(key, fingerprint, records.TimeToLive, When.NotExists);
        if (!first)
        {
            string? earlier = await db.StringGetAsync(key);
            if (earlier != fingerprint)
            {
                throw new IdempotencyConflictException(job.JobId);
            }

            // The same images again: the first job's answer. A record missing means the first post did not get as far
            // as sending: send it now (the consumer scores a job id once, whoever sends it).
            if (await records.GetAsync(job.JobId) is { } record)
            {
                JobResource existing = JobResource.Of(record, await webhooks.GetAsync(job.JobId));
                return new Submission(existing.Finished ? existing : await PollAsync(job.JobId, wait, cancellationToken) ?? existing, Repeated: true);
            }
        }

        if (job.CallbackUrl is { } callback)
        {
            await webhooks.RegisterAsync(job.JobId, callback, cancellationToken);
        }

        await records.AcceptedAsync(job.JobId, time.GetUtcNow());
        try
        {
            await SendAsync(job, wait, cancellationToken);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or RequestFaultException))
        {
            // Not sent (the claim check or the broker failed): give the job id back, so that the caller's retry of the
            // same post sends it, instead of finding an "accepted" job that no silo will ever receive. Had it been
            // sent after all, the retry's command is a replay, which the cluster answers from the first.
            try
            {
                await db.KeyDeleteAsync(key);
                if (await records.GetAsync(job.JobId) is { Status: JobStatus.Accepted })
                {
                    await db.KeyDeleteAsync(JobRecord.RedisKey(job.JobId));
                }
            }
            catch (Exception) when (ex is RedisException)
            {
                // Redis is what failed: the keys cannot be given back now; they expire with the record.
            }

            throw;
        }

        JobResource resource = await GetAsync(job.JobId)
            ?? new JobResource(job.JobId, JobStatus.Accepted, time.GetUtcNow(), null, null, null, null, await webhooks.GetAsync(job.JobId));
        return new Submission(resource, Repeated: !first);
    }

    private async Task SendAsync(IncomingJob job, TimeSpan wait, CancellationToken cancellationToken)
    {
        ScoreImages command = await CommandAsync(job, cancellationToken);
        Uri queue = await scoreQueue.GetAsync(cancellationToken);
        if (wait <= TimeSpan.Zero)
        {
            ISendEndpoint endpoint = await bus.GetSendEndpoint(queue);
            await BusDeadline.WithinAsync(
                busOptions.Value.PublishTimeout,
                $"job {job.JobId}",
                token => endpoint.Send(command, context => context.SetPriority(job.Priority), token),
                cancellationToken);
            return;
        }

        try
        {
            await bus.CreateRequestClient<ScoreImages>(queue, RequestTimeout.After(ms: (int)Math.Ceiling(wait.TotalMilliseconds)))
                .GetResponse<ImagesScored, ScoreImagesRejected>(command, request => request.UseExecute(context => context.SetPriority(job.Priority)), cancellationToken);
        }
        catch (RequestTimeoutException)
        {
            // Not ready in time: the job goes on, and the caller gets its address.
        }
    }

    /// <summary>The job's resource once it ends, or at the end of <paramref name="wait"/>; null when it has no record.</summary>
    public async Task<JobResource?> PollAsync(string jobId, TimeSpan wait, CancellationToken cancellationToken)
    {
        long start = time.GetTimestamp();
        while (true)
        {
            JobResource? job = await GetAsync(jobId);
            if (job is null || job.Finished || time.GetElapsedTime(start) >= wait)
            {
                return job;
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    private async Task<ScoreImages> CommandAsync(IncomingJob job, CancellationToken cancellationToken)
    {
        var references = new ImageReference[job.Images.Count];
        var data = new ImageData(claimCheck);
        for (int i = 0; i < references.Length; i++)
        {
            IncomingImage image = job.Images[i];
            references[i] = image.Url is { } url
                ? new ImageReference { Name = image.Name, Url = url }
                : new ImageReference { Name = image.Name, Data = await data.OfAsync(image.Bytes!, cancellationToken) };
        }

        return new ScoreImages
        {
            JobId = job.JobId,
            Images = references,
            Metadata = job.Metadata,
            Priority = job.Priority,
            SubmittedAt = time.GetUtcNow(),
        };
    }
}
