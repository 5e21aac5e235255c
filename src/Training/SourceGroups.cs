namespace ArtGrid.Training;

/// <summary>
/// The unit that validation keeps whole. By default a source (one repository or package); related sources, such as
/// one publisher's repositories or two packages that share an artist, belong together or out-of-group figures flatter
/// the model. <see cref="ByOwner"/> joins a GitHub owner's repositories; <see cref="Joined"/> lists further sets of
/// sources (or owners) that count as one group.
/// </summary>
public sealed record SourceGroups(bool ByOwner = false, IReadOnlyList<IReadOnlyList<string>>? Joined = null)
{
    public static readonly SourceGroups Sources = new();

    public string Of(string source)
    {
        string key = ByOwner && source.StartsWith("github:", StringComparison.Ordinal) && source.IndexOf('/', StringComparison.Ordinal) is > 0 and int slash
            ? source[..slash]
            : source;
        foreach (IReadOnlyList<string> set in Joined ?? [])
        {
            if (set.Contains(key, StringComparer.Ordinal) || set.Contains(source, StringComparer.Ordinal))
            {
                return string.Join("+", set);
            }
        }

        return key;
    }

    /// <summary>Parses <c>--same-group A,B[,C]</c> values.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> ParseJoined(IEnumerable<string> values) =>
        [.. values.Select(v => (IReadOnlyList<string>)[.. v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]).Where(s => s.Count > 1)];
}
