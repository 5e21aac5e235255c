namespace ArtGrid.Grains;

/// <summary>What a job grain keeps (grain storage "jobs": memory when embedded, Redis in the cluster).</summary>
[GenerateSerializer, Alias("artgrid.JobState")]
public sealed class JobState
{
    [Id(0)]
    public JobVerdict? Verdict { get; set; }

    /// <summary>When the completion was published; null while it has not been (a crash between scoring and publishing).</summary>
    [Id(1)]
    public DateTimeOffset? PublishedAt { get; set; }
}
