namespace ArtGrid.Imaging;

/// <summary>
/// The outcome of preprocessing one image: a packed tensor, or an error for that image alone; and the provenance
/// <see cref="Evidence"/> the file carries (its metadata blocks, then what its pixels hold), read where it was decoded,
/// failures included.
/// </summary>
public readonly record struct PreparedImage(float[]? Tensor, ImageError? Error, string? Format, int Width, int Height, IReadOnlyList<Evidence>? Evidence = null)
{
    /// <summary>The image as scored, before resizing (EXIF-oriented, transparency over white), when the caller asked for it.</summary>
    public OrientedImage? Oriented { get; init; }

    public static PreparedImage Fail(string code, string message, string? format = null, int width = 0, int height = 0) =>
        new(null, new ImageError(code, message), format, width, height);
}
