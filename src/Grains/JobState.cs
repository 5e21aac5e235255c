namespace ArtGrid.Grains;

/// <summary>What a job grain keeps (grain storage "jobs": memory when embedded, Redis in the cluster).</summary>
[GenerateSerializer, Alias("artgrid.JobState")]
public sealed class JobState
{
    [Id(0)]
    public JobVerdict? Verdict { get; set; }

    /// <summary>
    /// When the completion was published. The state is written once, after the publication (see <see cref="JobGrain"/>);
    /// null only in a state an earlier version wrote before publishing, and never published if it crashed then.
    /// </summary>
    [Id(1)]
    public DateTimeOffset? PublishedAt { get; set; }
}
