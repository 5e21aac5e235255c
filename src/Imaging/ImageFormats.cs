namespace ArtGrid.Imaging;

/// <summary>The formats ArtGrid decodes. TIFF is refused: ImageSharp 2.1.x has an unfixed TIFF advisory.</summary>
public static class ImageFormats
{
    public static readonly IReadOnlySet<string> Allowed = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "JPEG", "PNG", "WEBP", "GIF", "BMP",
    };

    /// <summary>File extensions that folder scans pick up (TIFF included, so that it gets a clear refusal).</summary>
    public static readonly IReadOnlySet<string> ScannedExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".dib", ".tif", ".tiff",
    };
}
