using MassTransit;

namespace ArtGrid.Contracts;

public static class RejectionCodes
{
    /// <summary>The command breaks a rule (no images, too many, a bad job id, a reference naming no source or several).</summary>
    public const string InvalidCommand = "invalid_command";

    /// <summary>An image reference cannot be resolved, and retrying will not change that.</summary>
    public const string UnresolvableImage = "unresolvable_image";
}
