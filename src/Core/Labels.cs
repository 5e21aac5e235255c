namespace ArtGrid;

/// <summary>The verdict labels, as they appear on the wire.</summary>
public static class Labels
{
    public const string Ai = "ai";
    public const string Human = "human";
    public const string Uncertain = "uncertain";
}
