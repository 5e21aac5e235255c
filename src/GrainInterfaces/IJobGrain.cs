using Orleans.Concurrency;

namespace ArtGrid.GrainInterfaces;

/// <summary>One job (a post of 1..N images): scores each image and merges the scores into a verdict.</summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Scores the job. Calling it again with the same job id returns the first verdict.</summary>
    Task<JobVerdict> ScoreAsync(ScoreJob job, CancellationToken cancellationToken = default);

    /// <summary>
    /// For a redelivered command: the stored verdict (publishing it if an earlier attempt did not get that far), or
    /// null when the job has not been scored yet.
    /// </summary>
    Task<JobVerdict?> ResumeAsync(CancellationToken cancellationToken = default);

    /// <summary>The verdict, or null while the job has not completed.</summary>
    Task<JobVerdict?> GetVerdictAsync(CancellationToken cancellationToken = default);
}
