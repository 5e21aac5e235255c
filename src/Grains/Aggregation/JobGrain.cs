using ArtGrid.Abstractions;
using ArtGrid.Grains.Inference;

namespace ArtGrid.Grains.Aggregation;

/// <summary>
/// One job: fans its images out to ingestion (on this silo) and merges their scores into a verdict. A repeated
/// call with the same job id returns the first verdict instead of scoring again.
/// </summary>
[CollectionAgeLimit(Minutes = 5)]
public sealed class JobGrain(ModelSessions models, TimeProvider time) : Grain, IJobGrain
{
    private JobVerdict? _verdict;

    public async Task<JobVerdict> ScoreAsync(ScoreJob job, CancellationToken cancellationToken = default)
    {
        if (_verdict is not null)
        {
            return _verdict;
        }

        if (job.JobId != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"Job '{job.JobId}' was sent to the grain of job '{this.GetPrimaryKeyString()}'.", nameof(job));
        }

        if (job.Images.Count == 0)
        {
            throw new ArgumentException("A job needs at least one image.", nameof(job));
        }

        IIngestionGrain ingestion = GrainFactory.GetGrain<IIngestionGrain>(0);
        ImageScore[] scores = await Task.WhenAll(job.Images.Select((image, index) => ingestion.ScoreImageAsync(index, image, cancellationToken)));
        LoadedModel model = models.DefaultModel;
        _verdict = VerdictPolicy.Merge(job.JobId, scores, model.Config, model.Id, time.GetUtcNow());
        return _verdict;
    }

    public Task<JobVerdict?> GetVerdictAsync(CancellationToken cancellationToken = default) => Task.FromResult(_verdict);
}
