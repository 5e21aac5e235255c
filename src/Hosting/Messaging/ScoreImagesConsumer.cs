using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Hosting.Images;
using ArtGrid.Hosting.Operations;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// Takes <see cref="ScoreImages"/> off the bus in every silo and hands the job to its grain. On a redelivery (a silo
/// died, the broker restarted) the grain answers the verdict it already has, or the job record's (which the one round
/// trip that records the delivery returns), and scores nothing. Images the message carries inline are not fetched;
/// for the others the grain is asked first whether the job has a verdict, so that a redelivery fetches nothing. A command that
/// breaks the rules, or names an image that can never be read, is rejected (<see cref="ScoreImagesRejected"/>,
/// published and answered); anything that may pass throws, so that MassTransit retries it and, when retries run
/// out, moves it to the "_error" queue with the exception and publishes <c>Fault&lt;ScoreImages&gt;</c>. What it
/// publishes or answers must reach the broker within <see cref="BusOptions.PublishTimeout"/> (<see cref="BusDeadline"/>).
/// While every device is saturated, a job waits at the <see cref="IntakeGate"/> before it starts.
/// </summary>
public sealed partial class ScoreImagesConsumer(
    IGrainFactory grains,
    ImageResolver resolver,
    RedisJobRecords records,
    IntakeGate intake,
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
        JobRecord? finished = await records.ReceivedAsync(command.JobId, time.GetUtcNow(), command.Images);
        if (finished is { Status: JobStatus.Rejected, Rejection: { } earlier })
        {
            // A replay of a rejected job: answer again, publish nothing new.
            instruments.Completed("replayed");
            await RespondIfAskedAsync(context, earlier);
            return;
        }

        IJobGrain job = grains.GetGrain<IJobGrain>(command.JobId);
        JobVerdict? recorded = finished is { Status: JobStatus.Completed, Verdict: { } v } ? v : null;
        JobVerdict? verdict = null;
        if (recorded is null && !command.Images.All(image => ImageData.IsInline(image.Data)))
        {
            // Images to fetch (claim check, URL, store): first ask the grain whether it has the verdict already.
            verdict = await job.ResumeAsync(context.CancellationToken);
        }

        if (verdict is null)
        {
            ImageRef[] images = [];
            if (recorded is null)
            {
                try
                {
                    images = await resolver.ResolveAsync(command.Images, context.CancellationToken);
                }
                catch (ImageUnavailableException ex) when (ex.Permanent)
                {
                    await RejectAsync(context, RejectionCodes.UnresolvableImage, $"{ex.Code}: {ex.Message}", ex.ImageIndex);
                    return;
                }
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

    private async Task RejectAsync(ConsumeContext<ScoreImages> context, string code, string reason, int? imageIndex)
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
        if (ScoreImagesValidator.IsValidJobId(rejection.JobId))
        {
            await records.RejectedAsync(rejection);
        }

        await BusDeadline.WithinAsync(options.Value.PublishTimeout, $"the rejection of job {rejection.JobId}", token => context.Publish(rejection, token), context.CancellationToken);
        await RespondIfAskedAsync(context, rejection);
    }

    private async Task RespondIfAskedAsync<T>(ConsumeContext<ScoreImages> context, T response)
        where T : class
    {
        if (context.RequestId is not null)
        {
            // RespondAsync takes no token: the deadline lets the consumer go, and the send ends with its channel.
            await BusDeadline.WithinAsync(options.Value.PublishTimeout, $"the reply to job {context.Message.JobId}", _ => context.RespondAsync(response), context.CancellationToken);
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Job {JobId} rejected ({Code}): {Reason}")]
    private partial void LogRejected(string jobId, string code, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Job {JobId} delivered again (redelivery {Redelivery}); answered from its stored verdict")]
    private partial void LogReplayed(string jobId, int redelivery);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Job {JobId} scored by {Model}: {Label}, {Images} image(s)")]
    private partial void LogScored(string jobId, string label, string model, int images);
}
