namespace ArtGrid.Abstractions;

/// <summary>The verdict labels, as they appear on the wire.</summary>
public static class Labels
{
    public const string Ai = "ai";
    public const string Human = "human";
    public const string Uncertain = "uncertain";
}

/// <summary>Stable per-image error codes.</summary>
public static class ErrorCodes
{
    public const string EmptyFile = "empty_file";
    public const string Unreadable = "unreadable";
    public const string UnsupportedFormat = "unsupported_format";
    public const string TooLarge = "too_large";
    public const string DecodeFailed = "decode_failed";
    public const string Overloaded = "overloaded";
    public const string InferenceFailed = "inference_failed";
}
