using MassTransit;

namespace ArtGrid.Contracts;

public static class RejectionCodes
{
    /// <summary>The command breaks a rule (no images, too many, a bad job id, a reference naming no source or several).</summary>
    public const string InvalidCommand = "invalid_command";

    /// <summary>An image reference cannot be resolved, and retrying will not change that.</summary>
    public const string UnresolvableImage = "unresolvable_image";

    /// <summary>
    /// An image named by its SHA-256 alone (<see cref="ImageReference.Sha256"/>) is not in the result cache for the job's
    /// model version: send the job again, under the same id, with the image's bytes. Not recorded against the job id.
    /// </summary>
    public const string NotCached = "not_cached";
}
