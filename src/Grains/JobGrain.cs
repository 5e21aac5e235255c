using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace ArtGrid.Grains;

/// <summary>
/// One job: resolves the active model version (<see cref="ActiveVersions"/>), scores its images (<see cref="ImageScorer"/>, on
/// this silo) and merges their scores into a verdict, which it makes visible once (<see cref="IJobCompletion"/>: the
/// job record, then the event) and keeps in grain storage. A repeated call with the same job id, on any silo, returns
/// the stored verdict instead of scoring again.
/// <para>
/// One grain-state write per job, after the publication: score, then the completion (the first completed record of a
/// job stands, and the completion returns it), then the state with the verdict and when it was published. What a
/// crash leaves at each step, and what the redelivered command then does:
/// <list type="bullet">
/// <item>before the completion's record: nothing is visible; the job is scored again (the author grain counts a job
/// id once) and published once.</item>
/// <item>after the record, before the broker took the event: the command's consumer finds the completed record in the
/// round trip that records the delivery and hands its verdict over (<see cref="ScoreJob.Recorded"/>), and the grain
/// publishes that verdict without scoring; a delivery that raced past the record's read scores, but the record's
/// verdict is the one that stands, is answered and published.</item>
/// <item>after the broker took the event, before the state write: as above, and the event is published a second time,
/// with the same verdict (consumers of <see cref="ImagesScored"/> deduplicate by job id): the same window as before
/// the state write was merged, between the broker taking the event and the grain recording that it did.</item>
/// <item>after the state write: the stored verdict is answered; nothing is published again.</item>
/// </list>
/// A verdict stored by an earlier version, written before its publication with <see cref="JobState.PublishedAt"/>
/// still null, is published (once) when its job is delivered again.
/// </para>
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 5)]
public sealed class JobGrain(
    [PersistentState("job", JobGrain.StorageName)] IPersistentState<JobState> state,
    ActiveVersions activeVersions,
    ImageScorer scorer,
    JobVerdicts verdicts,
    IOptions<JobOptions> jobOptions,
    IJobCompletion completion,
    TimeProvider time) : Grain, IJobGrain
{
    public const string StorageName = "jobs";

    public async Task<JobVerdict> ScoreAsync(ScoreJob job, CancellationToken cancellationToken = default)
    {
        if (state.State.Verdict is { } stored)
        {
            return await EnsurePublishedAsync(stored, cancellationToken);
        }

        if (job.JobId != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"Job '{job.JobId}' was sent to the grain of job '{this.GetPrimaryKeyString()}'.", nameof(job));
        }

        if (job.Recorded is { } recorded)
        {
            return recorded.JobId == job.JobId
                ? await CompleteAsync(recorded, cancellationToken)
                : throw new ArgumentException($"The recorded verdict of job '{recorded.JobId}' was sent to the grain of job '{job.JobId}'.", nameof(job));
        }

        if (job.Images.Count == 0)
        {
            throw new ArgumentException("A job needs at least one image.", nameof(job));
        }

        // One version for the whole job, resolved now: a switch while it runs changes nothing for it.
        string modelId = await activeVersions.ModelIdAsync(activeVersions.ScoringModel, cancellationToken);
        ImageScore[] scores = await ScoreImagesAsync(job, modelId, cancellationToken);
        JobVerdict verdict = await verdicts.MakeAsync(job.JobId, scores, job.Metadata, modelId, cancellationToken);
        return await CompleteAsync(verdict, cancellationToken);
    }

    // On this silo, or, for a job of more images than a share holds (all sent as bytes, so that any silo can read
    // them), in shares scored where the cluster places them; the scores come back in the job's order either way.
    private async Task<ImageScore[]> ScoreImagesAsync(ScoreJob job, string modelId, CancellationToken cancellationToken)
    {
        int share = jobOptions.Value.ShareImages;
        if (share <= 0 || job.Images.Count <= share || !job.Images.All(image => image.Kind == ImageSourceKind.Inline))
        {
            return await Task.WhenAll(job.Images.Select((image, index) => scorer.ScoreAsync(index, image, modelId, cancellationToken)));
        }

        ImageScore[][] shares = await Task.WhenAll(job.Images.Chunk(share).Select((images, number) =>
            GrainFactory.GetGrain<IImageShareGrain>($"{job.JobId}/{number}").ScoreAsync(new ImageShare(number * share, images, modelId), cancellationToken)));
        return [.. shares.SelectMany(scores => scores)];
    }

    public async Task<JobVerdict?> ResumeAsync(CancellationToken cancellationToken = default) =>
        state.State.Verdict is { } stored ? await EnsurePublishedAsync(stored, cancellationToken) : null;

    public Task<JobVerdict?> GetVerdictAsync(CancellationToken cancellationToken = default) => Task.FromResult(state.State.Verdict);

    // Once started, the publication and the state write run to the end (the publish deadline bounds them) even if the
    // caller gives up, as a draining silo's consumer does: cancelled between the broker taking the event and the
    // state, the job would be handed back and its verdict published a second time.
    private async Task<JobVerdict> CompleteAsync(JobVerdict verdict, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobVerdict standing = await completion.PublishAsync(verdict, CancellationToken.None);
        state.State.Verdict = standing;
        state.State.PublishedAt = time.GetUtcNow();
        await state.WriteStateAsync(CancellationToken.None);
        return standing;
    }

    private async Task<JobVerdict> EnsurePublishedAsync(JobVerdict stored, CancellationToken cancellationToken) =>
        state.State.PublishedAt is null ? await CompleteAsync(stored, cancellationToken) : stored;
}
