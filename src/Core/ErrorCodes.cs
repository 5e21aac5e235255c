namespace ArtGrid;

/// <summary>Stable per-image error codes.</summary>
public static class ErrorCodes
{
    public const string EmptyFile = "empty_file";
    public const string Unreadable = "unreadable";
    public const string UnsupportedFormat = "unsupported_format";
    public const string TooLarge = "too_large";
    public const string DecodeFailed = "decode_failed";

    /// <summary>The decoder took longer than the sandbox allows (an endless loop, or a far too slow file); its worker was killed.</summary>
    public const string DecodeTimeout = "decode_timeout";

    /// <summary>The decode worker died on this image (twice, by default: it is retried once on a fresh worker).</summary>
    public const string DecoderCrashed = "decoder_crashed";

    /// <summary>Decoding this image took the worker over its memory ceiling; the worker was killed.</summary>
    public const string DecodeMemoryLimit = "decode_memory_limit";
    public const string Overloaded = "overloaded";
    public const string InferenceFailed = "inference_failed";

    /// <summary>The image was named by its SHA-256 alone and the result cache holds no score of it for the job's model.</summary>
    public const string NotCached = "not_cached";
}
