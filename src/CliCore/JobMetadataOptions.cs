namespace ArtGrid.Cli;

/// <summary>
/// The <see cref="JobMetadata"/> of <c>artgrid submit</c>'s <c>--author</c>, <c>--source</c>, <c>--licence</c>,
/// <c>--declared-ai</c> and <c>--tag</c> options: what the uploader says about the job, which the verdict weighs (a
/// declaration that conflicts with the verdict, the author's history).
/// </summary>
public static class JobMetadataOptions
{
    /// <summary>The metadata the options give, or <see cref="JobMetadata.None"/> when none is given.</summary>
    /// <exception cref="UsageException">A value given but blank (values are trimmed, and a repeated tag is kept once).</exception>
    public static JobMetadata Build(string? author, string? source, string? licence, bool? declaredAi, IReadOnlyList<string>? tags)
    {
        tags ??= [];
        foreach ((string option, string? value) in new[] { ("--author", author), ("--source", source), ("--licence", licence) })
        {
            if (value is not null && string.IsNullOrWhiteSpace(value))
            {
                throw new UsageException($"{option} must not be blank.");
            }
        }

        if (tags.FirstOrDefault(string.IsNullOrWhiteSpace) is not null)
        {
            throw new UsageException("--tag must not be blank.");
        }

        string[] distinct = [.. tags.Select(t => t.Trim()).Distinct(StringComparer.Ordinal)];
        if (author is null && source is null && licence is null && declaredAi is null && distinct.Length == 0)
        {
            return JobMetadata.None;
        }

        return new JobMetadata(author?.Trim(), source?.Trim(), licence?.Trim(), declaredAi, distinct.Length == 0 ? null : distinct);
    }
}
