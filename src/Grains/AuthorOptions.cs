using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Grains;

/// <summary>How long an author's counts are kept ("ArtGrid:Authors").</summary>
public sealed class AuthorOptions
{
    public const string SectionName = "ArtGrid:Authors";

    /// <summary>
    /// An author's counts are forgotten this long after the author's last job, so that the state of every author ever
    /// seen does not stay for good. In the cluster it is the Redis key's time to live, set again by every job the
    /// author sends; once it has passed, the author's counts start over at the next job. Whole seconds (Redis expiry).
    /// The embedded mode keeps authors in its process's memory, freed when the process ends; within it an author's
    /// counts start over after this all the same (the grain resets them).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan Expiry { get; set; } = TimeSpan.FromDays(90);

    /// <summary>
    /// <see cref="Expiry"/> rounded up to whole seconds: Orleans' Redis storage passes its expiry to Redis' EXPIRE as
    /// seconds, and a fraction there would fail every write.
    /// </summary>
    public TimeSpan StorageExpiry => TimeSpan.FromSeconds(Math.Ceiling(Expiry.TotalSeconds));
}
