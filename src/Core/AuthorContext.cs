namespace ArtGrid;

/// <summary>What the cluster has seen of one author, as of a job's verdict (that job included).</summary>
[GenerateSerializer, Immutable, Alias("artgrid.AuthorContext")]
public sealed record AuthorContext(
    [property: Id(0)] string Author,
    [property: Id(1)] long Jobs,
    [property: Id(2)] long AiVerdicts,
    [property: Id(3)] long UndeclaredAi,
    [property: Id(4)] long Conflicts);
