namespace ArtGrid.Contracts;

/// <summary>
/// The rules a <see cref="ScoreImages"/> command must meet, in one place for every side of the bus: the consumer
/// rejects a command that breaks them (<see cref="RejectionCodes.InvalidCommand"/>), and producers (the gateway, the
/// CLI) refuse the job before any of its bytes are uploaded.
/// </summary>
public static class ScoreImagesValidator
{
    public const int MaxImagesPerJob = 64;
    public const int MaxJobIdLength = 200;

    /// <summary>Why the command breaks a rule, or null when it does not.</summary>
    public static string? Validate(ScoreImages command) =>
        ValidateShape(command.JobId, command.Images?.Count ?? 0)
        ?? command.Images!.Select(ValidateReference).FirstOrDefault(problem => problem is not null);

    /// <summary>The rules that need no image bytes: the job id and the number of images.</summary>
    public static string? ValidateShape(string? jobId, int imageCount)
    {
        if (!IsValidJobId(jobId))
        {
            return $"the job id must be 1 to {MaxJobIdLength} printable characters";
        }

        return imageCount is > 0 and <= MaxImagesPerJob ? null : $"a job needs 1 to {MaxImagesPerJob} images";
    }

    public static bool IsValidJobId(string? jobId) =>
        !string.IsNullOrWhiteSpace(jobId) && jobId.Length <= MaxJobIdLength && !jobId.Any(char.IsControl);

    /// <summary>A reference names exactly one source: data, url, key or sha256 (64 hex digits).</summary>
    public static string? ValidateReference(ImageReference reference)
    {
        // MassTransit hands a missing MessageData property over as an empty value (HasValue false), not as null.
        int sources = (reference.Data is { HasValue: true } ? 1 : 0) + (reference.Url is not null ? 1 : 0) + (reference.Key is not null ? 1 : 0) + (reference.Sha256 is not null ? 1 : 0);
        if (sources != 1)
        {
            return $"image '{reference.Name}' names {sources} sources; exactly one of data, url, key or sha256 is needed";
        }

        return reference.Sha256 is { } sha256 && !IsSha256(sha256) ? $"image '{reference.Name}': sha256 must be 64 hex digits" : null;
    }

    /// <summary>Whether <paramref name="value"/> is a SHA-256 as <see cref="ImageReference.Sha256"/> takes it: 64 hex digits, either case.</summary>
    public static bool IsSha256(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigit);
}
