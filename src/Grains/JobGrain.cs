using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace ArtGrid.Grains;

/// <summary>
/// One job: resolves the active model version (<see cref="ActiveVersions"/>), scores its images (<see cref="ImageScorer"/>, on
/// this silo) and merges their scores into a verdict, which it keeps in grain storage and publishes once. A repeated call with the same job id, on any silo, returns the stored verdict
/// instead of scoring again; the publication is repeated only if the first attempt did not finish (the window between
/// the bus accepting the event and the grain recording that it did: consumers of <see cref="ImagesScored"/>
/// deduplicate by job id).
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 5)]
public sealed class JobGrain(
    [PersistentState("job", JobGrain.StorageName)] IPersistentState<JobState> state,
    ActiveVersions activeVersions,
    ImageScorer scorer,
    IOptions<VerdictOptions> verdictOptions,
    IJobCompletion completion,
    TimeProvider time) : Grain, IJobGrain
{
    public const string StorageName = "jobs";

    public async Task<JobVerdict> ScoreAsync(ScoreJob job, CancellationToken cancellationToken = default)
    {
        if (state.State.Verdict is { } stored)
        {
            await EnsurePublishedAsync(stored, cancellationToken);
            return stored;
        }

        if (job.JobId != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"Job '{job.JobId}' was sent to the grain of job '{this.GetPrimaryKeyString()}'.", nameof(job));
        }

        if (job.Images.Count == 0)
        {
            throw new ArgumentException("A job needs at least one image.", nameof(job));
        }

        // One version for the whole job, resolved now: a switch while it runs changes nothing for it.
        string modelId = await activeVersions.ModelIdAsync(activeVersions.ScoringModel, cancellationToken);
        ImageScore[] scores = await Task.WhenAll(job.Images.Select((image, index) => scorer.ScoreAsync(index, image, modelId, cancellationToken)));
        JobVerdict verdict = VerdictPolicy.Merge(job.JobId, scores, job.Metadata, verdictOptions.Value, modelId, time.GetUtcNow());
        if (!string.IsNullOrWhiteSpace(job.Metadata.Author))
        {
            IAuthorGrain author = GrainFactory.GetGrain<IAuthorGrain>(AuthorGrain.KeyOf(job.Metadata.Author));
            verdict = verdict with { Author = await author.RecordAsync(job.JobId, verdict.Label, job.Metadata.DeclaredAi, verdict.Conflict, cancellationToken) };
        }

        state.State.Verdict = verdict;
        await state.WriteStateAsync(cancellationToken);
        await EnsurePublishedAsync(verdict, cancellationToken);
        return verdict;
    }

    public async Task<JobVerdict?> ResumeAsync(CancellationToken cancellationToken = default)
    {
        if (state.State.Verdict is { } stored)
        {
            await EnsurePublishedAsync(stored, cancellationToken);
        }

        return state.State.Verdict;
    }

    public Task<JobVerdict?> GetVerdictAsync(CancellationToken cancellationToken = default) => Task.FromResult(state.State.Verdict);

    private async Task EnsurePublishedAsync(JobVerdict verdict, CancellationToken cancellationToken)
    {
        if (state.State.PublishedAt is not null)
        {
            return;
        }

        // Once started, the publication and its record run to the end (the publish deadline bounds them) even if the
        // caller gives up, as a draining silo's consumer does: cancelled between the broker taking the event and the
        // record, the job would be handed back and its verdict published a second time.
        cancellationToken.ThrowIfCancellationRequested();
        await completion.PublishAsync(verdict, CancellationToken.None);
        state.State.PublishedAt = time.GetUtcNow();
        await state.WriteStateAsync(CancellationToken.None);
    }
}
