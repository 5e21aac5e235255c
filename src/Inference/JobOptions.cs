namespace ArtGrid.Inference;

/// <summary>How the cluster spreads a job's images ("ArtGrid:Jobs").</summary>
public sealed class JobOptions
{
    public const string SectionName = "ArtGrid:Jobs";

    /// <summary>
    /// A job of more images than this, all sent as bytes, is scored in shares of this many images, which go to the
    /// cluster's silos in turn, so that a large job uses every silo's decode workers; smaller jobs are scored on the
    /// silo that received them. 0 keeps every job on its silo.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 10_000)]
    public int ShareImages { get; set; } = 8;
}
