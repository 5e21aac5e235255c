namespace ArtGrid.Grains;

/// <summary>The embedded mode's completion: the verdict stays in the job grain.</summary>
public sealed class NoJobCompletion : IJobCompletion
{
    public Task<JobVerdict> PublishAsync(JobVerdict verdict, CancellationToken cancellationToken = default) => Task.FromResult(verdict);
}
