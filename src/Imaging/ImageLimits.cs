namespace ArtGrid.Imaging;

/// <summary>The size rules an image's bytes must meet before anything reads them, decided here alone.</summary>
public static class ImageLimits
{
    /// <summary>Null when <paramref name="length"/> bytes may be read; else the image's error (empty, or over <paramref name="maxBytes"/>).</summary>
    public static ImageError? CheckLength(long length, int maxBytes) => length switch
    {
        0 => new ImageError(ErrorCodes.EmptyFile, "The file is empty."),
        _ when length > maxBytes => new ImageError(ErrorCodes.TooLarge, $"The file has {length} bytes; the limit is {maxBytes}."),
        _ => null,
    };
}
