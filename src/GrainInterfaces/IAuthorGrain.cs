namespace ArtGrid.GrainInterfaces;

/// <summary>
/// One author's running counts (keyed by the author as given, trimmed and lower-cased): jobs, AI verdicts, AI verdicts
/// the author did not declare, and declarations of human work that the verdict contradicted. Bounded state: counts
/// and the last few job ids (so that a replayed job is not counted twice).
/// </summary>
public interface IAuthorGrain : IGrainWithStringKey
{
    Task<AuthorContext> RecordAsync(string jobId, string? label, bool? declaredAi, bool conflict, CancellationToken cancellationToken = default);

    Task<AuthorContext> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>The grain key of an author, the same wherever a name is turned into one: trimmed, lower-cased, at most 200 characters.</summary>
public static class AuthorKey
{
    public static string Of(string author)
    {
        string key = author.Trim().ToLowerInvariant();
        return key.Length > 200 ? key[..200] : key;
    }
}
