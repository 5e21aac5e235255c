namespace ArtGrid.Hosting.Review;

/// <summary>
/// The content type of uploaded bytes from their first bytes alone (never from a name or a declared type, and without
/// decoding anything): PNG, JPEG, GIF, WebP and BMP, the formats ArtGrid scores. Anything else is null, and is never
/// served to a browser.
/// </summary>
public static class ImageSniffer
{
    private static ReadOnlySpan<byte> Png => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", or null.</summary>
    public static string? ContentType(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith(Png))
        {
            return "image/png";
        }

        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            return "image/jpeg";
        }

        if (bytes.StartsWith("GIF87a"u8) || bytes.StartsWith("GIF89a"u8))
        {
            return "image/gif";
        }

        if (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
        {
            return "image/webp";
        }

        // BITMAPFILEHEADER: "BM", the file size, two reserved words, then the pixel offset past a known DIB header size.
        if (bytes.Length >= 18 && bytes.StartsWith("BM"u8) && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[14..18]) is 12 or 40 or 52 or 56 or 64 or 108 or 124)
        {
            return "image/bmp";
        }

        return null;
    }

    /// <summary>The file extension (with its dot) for a content type of <see cref="ContentType"/>.</summary>
    public static string Extension(string contentType) => contentType switch
    {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "image/bmp" => ".bmp",
        _ => throw new ArgumentOutOfRangeException(nameof(contentType), contentType, "not an image type ImageSniffer answers"),
    };
}
