using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Hosting.Images;
using ArtGrid.Hosting.Operations;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// Takes <see cref="ScoreImages"/> off the bus in every silo and hands the job to its grain, except where no grain is
/// needed:
/// <list type="bullet">
/// <item>a job whose record is completed and published (a redelivery, a re-send: the one round trip that records the
/// delivery returns that record) is answered from the record, and nothing is published again;</item>
/// <item>a job whose images all travel in the message, or are named by their SHA-256 alone, and are all in the result
/// cache (a re-upload) gets its verdict here, made as the grain makes it (<see cref="JobVerdicts"/>), recorded and
/// published by the same completion: no grain activation, no grain state. Two deliveries of such a job racing each
/// other both publish the same verdict (the record's first completion stands), as after a crash between the event and
/// its mark;</item>
/// <item>a job with an image named by its SHA-256 that the result cache does not hold is rejected
/// (<see cref="RejectionCodes.NotCached"/>) without recording the rejection, so that the same job id sent again with
/// the bytes is scored.</item>
/// </list>
/// Otherwise, on a redelivery the grain answers the verdict it already has, or the job record's, and scores nothing.
/// Images the message carries inline are not fetched; for the others the grain is asked first whether the job has a
/// verdict, so that a redelivery fetches nothing. A command that
/// breaks the rules, or names an image that can never be read, is rejected (<see cref="ScoreImagesRejected"/>,
/// published and answered); anything that may pass throws, so that MassTransit retries it and, when retries run
/// out, moves it to the "_error" queue with the exception and publishes <c>Fault&lt;ScoreImages&gt;</c>. What it
/// publishes or answers must reach the broker within <see cref="BusOptions.PublishTimeout"/> (<see cref="BusDeadline"/>).
/// While every device is saturated, a job waits at the <see cref="IntakeGate"/> before it starts.
/// <para>
/// When Redis cannot be reached (the round trip that records the delivery fails to connect or times out), a job whose
/// images all travel in the message is scored here all the same, with the version this silo last resolved: without the
/// result cache, the job record or the author's grain (all in Redis), and published flagged
/// (<see cref="ImagesScored.Unrecorded"/>), so that a moderation queue keeps flowing through the outage. Nothing records
/// such a job, so a redelivery or a re-send of it is scored and published again. Any other job, a silo that never
/// resolved a version, or <see cref="BusOptions.ScoreWithoutRedis"/> off: the failure is thrown and retried, as before.
/// </para>
/// </summary>
public sealed partial class ScoreImagesConsumer(
    IGrainFactory grains,
    ImageResolver resolver,
    RedisJobRecords records,
    ImageScorer scorer,
    ActiveVersions activeVersions,
    JobVerdicts verdicts,
    IJobCompletion completion,
    IntakeGate intake,
    Replies replies,
    TimeProvider time,
    IOptions<BusOptions> options,
    JobInstruments instruments,
    ILogger<ScoreImagesConsumer> logger) : IConsumer<ScoreImages>
{
    // Every entry written while a job is handled carries its id (JSON logs show scopes), beside the trace id.
    private static readonly Func<ILogger, string, IDisposable?> JobScope = LoggerMessage.DefineScope<string>("Job {JobId}");

    public async Task Consume(ConsumeContext<ScoreImages> context)
    {
        using (JobScope(logger, context.Message.JobId ?? ""))
        {
            await HandleAsync(context);
        }
    }

    private async Task HandleAsync(ConsumeContext<ScoreImages> context)
    {
        ScoreImages command = context.Message;
        if (context.SentTime is { } sent)
        {
            // The queue's age as this consumer sees it: how long the message waited for a silo (first delivery only).
            if (context.GetRedeliveryCount() == 0 && context.GetRetryAttempt() == 0)
            {
                instruments.Waited(time.GetUtcNow() - new DateTimeOffset(DateTime.SpecifyKind(sent, DateTimeKind.Utc)));
            }
        }

        if (ScoreImagesValidator.Validate(command) is { } problem)
        {
            await RejectAsync(context, RejectionCodes.InvalidCommand, problem, null);
            return;
        }

        // Backpressure: while every device is saturated this job waits here, holding its concurrency slot, so that the
        // broker keeps the backlog (prefetch bounds what this silo holds) instead of the silo's memory.
        await intake.WaitAsync(context.CancellationToken);

        // One round trip records the delivery and says what became of an earlier one (a redelivery, a re-send).
        JobRecord? finished;
        try
        {
            finished = await records.ReceivedAsync(command.JobId, time.GetUtcNow(), command.Images);
        }
        catch (Exception ex) when (ScoringWithoutRedis(ex, command) is { } lastModelId)
        {
            await ScoreUnrecordedAsync(context, lastModelId, ex);
            return;
        }

        if (finished is { Status: JobStatus.Rejected, Rejection: { } earlier })
        {
            // A replay of a rejected job: answer again, publish nothing new.
            instruments.Completed("replayed");
            await RespondIfAskedAsync(context, earlier);
            return;
        }

        if (finished is { Status: JobStatus.Completed, Verdict: { } published, PublishedAt: not null })
        {
            LogReplayed(command.JobId, context.GetRedeliveryCount());
            instruments.Completed("replayed");
            await RespondIfAskedAsync(context, ImagesScored.Of(published));
            return;
        }

        JobVerdict? recorded = finished is { Status: JobStatus.Completed, Verdict: { } v } ? v : null;
        bool inHand = command.Images.All(image => image.Sha256 is not null || ImageData.IsInline(image.Data));
        ImageRef[]? resolved = null;
        if (recorded is null && inHand)
        {
            // Nothing to fetch: the images are in hand (or named by their hash), and a job the cache answers whole
            // needs no grain.
            resolved = await ResolveOrRejectAsync(context);
            if (resolved is null)
            {
                return;
            }

            string modelId = await activeVersions.ModelIdAsync(activeVersions.ScoringModel, context.CancellationToken);
            ImageScore?[]? hits = await scorer.LookUpAsync(resolved, modelId, context.CancellationToken);
            if (hits is not null && hits.All(hit => hit is not null))
            {
                ImageScore[] scores = hits!;
                scorer.CountCacheHits(scores);
                JobVerdict made = await verdicts.MakeAsync(command.JobId, scores, command.Metadata ?? JobMetadata.None, modelId, context.CancellationToken);
                // Once started, the completion runs to the end (its deadline bounds it), as the grain's does.
                JobVerdict standing = await completion.PublishAsync(made, CancellationToken.None);
                instruments.Completed("scored");
                LogScored(command.JobId, standing.Label ?? "none", standing.Model, standing.Images.Count);
                await RespondIfAskedAsync(context, ImagesScored.Of(standing));
                return;
            }

            int missed = hits is null ? -1 : Enumerable.Range(0, resolved.Length).FirstOrDefault(i => resolved[i].Kind == ImageSourceKind.Hash && hits[i] is null, -1);
            if (missed >= 0)
            {
                // Not recorded: the producer sends the same job again with the bytes.
                await RejectAsync(context, RejectionCodes.NotCached, $"image {missed} ('{resolved[missed].Name}') was sent by its SHA-256 alone, and the result cache holds no score of {resolved[missed].Sha256} for {modelId}: send the job again with its bytes", missed, record: false);
                return;
            }
        }

        IJobGrain job = grains.GetGrain<IJobGrain>(command.JobId);
        JobVerdict? verdict = null;
        if (recorded is null && !inHand)
        {
            // Images to fetch (claim check, URL, store): first ask the grain whether it has the verdict already.
            verdict = await job.ResumeAsync(context.CancellationToken);
        }

        if (verdict is null)
        {
            ImageRef[] images = [];
            if (recorded is null)
            {
                ImageRef[]? read = resolved ?? await ResolveOrRejectAsync(context);
                if (read is null)
                {
                    return;
                }

                images = read;
            }

            // The grain answers its stored verdict if it has one; a recorded verdict is published, not scored again.
            verdict = await job.ScoreAsync(new ScoreJob(command.JobId, images, command.Metadata ?? JobMetadata.None, recorded), context.CancellationToken);
            if (recorded is not null)
            {
                LogReplayed(command.JobId, context.GetRedeliveryCount());
            }

            instruments.Completed(recorded is null ? "scored" : "replayed");
        }
        else
        {
            LogReplayed(command.JobId, context.GetRedeliveryCount());
            instruments.Completed("replayed");
        }

        LogScored(command.JobId, verdict.Label ?? "none", verdict.Model, verdict.Images.Count);
        await RespondIfAskedAsync(context, ImagesScored.Of(verdict));
    }

    // The model version to score a job with while Redis cannot be reached, or null when the job must wait for Redis:
    // another failure, the option off, an image that is not in the message, or no version resolved yet on this silo.
    private string? ScoringWithoutRedis(Exception exception, ScoreImages command) =>
        exception is RedisConnectionException or RedisTimeoutException
        && options.Value.ScoreWithoutRedis
        && command.Images.All(image => ImageData.IsInline(image.Data))
            ? activeVersions.LastKnownModelId(activeVersions.ScoringModel)
            : null;

    // Scores the job on this silo without Redis: no cache, no job record, no author; published and answered flagged.
    private async Task ScoreUnrecordedAsync(ConsumeContext<ScoreImages> context, string modelId, Exception redis)
    {
        ScoreImages command = context.Message;
        LogScoringWithoutRedis(command.JobId, modelId, redis.GetType().Name, redis.Message);
        ImageRef[]? images = await ResolveOrRejectAsync(context, record: false);
        if (images is null)
        {
            return;
        }

        ImageScore[] scores = await Task.WhenAll(images.Select((image, index) => scorer.ScoreUncachedAsync(index, image, modelId, context.CancellationToken)));
        JobVerdict verdict = verdicts.Merge(command.JobId, scores, command.Metadata ?? JobMetadata.None, modelId);
        ImagesScored scored = ImagesScored.Of(verdict) with { Unrecorded = ImagesScored.RedisUnreachable };
        await BusDeadline.WithinAsync(options.Value.PublishTimeout, $"the unrecorded verdict of job {command.JobId}", token => context.Publish(scored, token), context.CancellationToken);
        instruments.Completed("unrecorded");
        LogScored(command.JobId, verdict.Label ?? "none", verdict.Model, verdict.Images.Count);
        await RespondIfAskedAsync(context, scored);
    }

    // The command's images as bytes, or null when one can never be read: the command is then rejected (and the
    // rejection recorded, unless Redis cannot be reached).
    private async Task<ImageRef[]?> ResolveOrRejectAsync(ConsumeContext<ScoreImages> context, bool record = true)
    {
        try
        {
            return await resolver.ResolveAsync(context.Message.Images, context.CancellationToken);
        }
        catch (ImageUnavailableException ex) when (ex.Permanent)
        {
            await RejectAsync(context, RejectionCodes.UnresolvableImage, $"{ex.Code}: {ex.Message}", ex.ImageIndex, record);
            return null;
        }
    }

    private async Task RejectAsync(ConsumeContext<ScoreImages> context, string code, string reason, int? imageIndex, bool record = true)
    {
        var rejection = new ScoreImagesRejected
        {
            JobId = context.Message.JobId ?? "",
            Code = code,
            Reason = reason,
            ImageIndex = imageIndex,
            RejectedAt = time.GetUtcNow(),
        };
        LogRejected(rejection.JobId, code, reason);
        instruments.Completed("rejected");
        if (record && ScoreImagesValidator.IsValidJobId(rejection.JobId))
        {
            await records.RejectedAsync(rejection);
        }

        await BusDeadline.WithinAsync(options.Value.PublishTimeout, $"the rejection of job {rejection.JobId}", token => context.Publish(rejection, token), context.CancellationToken);
        await RespondIfAskedAsync(context, rejection);
    }

    // Through Replies: sent mandatory, so that a reply no queue takes (its requester's reply queue not declared again yet
    // after a broker restart, or its requester gone) comes back instead of vanishing, and is sent again in the background.
    private Task RespondIfAskedAsync<T>(ConsumeContext<ScoreImages> context, T response)
        where T : class => replies.SendAsync(context, context.Message.JobId ?? "", response);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Job {JobId} rejected ({Code}): {Reason}")]
    private partial void LogRejected(string jobId, string code, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Job {JobId} delivered again (redelivery {Redelivery}); answered from its stored verdict")]
    private partial void LogReplayed(string jobId, int redelivery);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Job {JobId} scored by {Model}: {Label}, {Images} image(s)")]
    private partial void LogScored(string jobId, string label, string model, int images);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Job {JobId} scored by {Model} without Redis ({Failure}: {Reason}): not cached, not recorded, author not counted; published flagged unrecorded")]
    private partial void LogScoringWithoutRedis(string jobId, string model, string failure, string reason);
}
