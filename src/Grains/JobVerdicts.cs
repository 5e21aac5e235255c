using ArtGrid.GrainInterfaces;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;

namespace ArtGrid.Grains;

/// <summary>
/// Makes a job's verdict from its image scores: the verdict policy's merge (<see cref="VerdictPolicy.Merge"/>) and, where
/// the job names an author, what the author's grain has seen of them (which also counts this job, once per job id).
/// The job grain and the cached-job path of the bus consumer both make verdicts here, so that a job answered from the
/// cache has the verdict the grain would have given it.
/// </summary>
public sealed class JobVerdicts(IGrainFactory grains, IOptions<VerdictOptions> options, TimeProvider time)
{
    public async Task<JobVerdict> MakeAsync(string jobId, IReadOnlyList<ImageScore> scores, JobMetadata metadata, string modelId, CancellationToken cancellationToken = default)
    {
        JobVerdict verdict = VerdictPolicy.Merge(jobId, scores, metadata, options.Value, modelId, time.GetUtcNow());
        if (!string.IsNullOrWhiteSpace(metadata.Author))
        {
            IAuthorGrain author = grains.GetGrain<IAuthorGrain>(AuthorGrain.KeyOf(metadata.Author));
            verdict = verdict with { Author = await author.RecordAsync(jobId, verdict.Label, metadata.DeclaredAi, verdict.Conflict, cancellationToken) };
        }

        return verdict;
    }

    /// <summary>
    /// The verdict policy's merge alone, without the author's grain (its state is in Redis): for a job scored while Redis
    /// cannot be reached, whose verdict leaves the author's context out and does not count the job for them.
    /// </summary>
    public JobVerdict Merge(string jobId, IReadOnlyList<ImageScore> scores, JobMetadata metadata, string modelId) =>
        VerdictPolicy.Merge(jobId, scores, metadata, options.Value, modelId, time.GetUtcNow());
}
