namespace ArtGrid.Imaging;

/// <summary>
/// Structural checks that decoders skip: ImageSharp decodes a truncated JPEG or PNG without complaint and fills
/// the missing part with grey, which would be scored as if it were the picture.
/// </summary>
public static class ContainerChecks
{
    private static ReadOnlySpan<byte> EndOfImage => [0xFF, 0xD9];

    /// <summary>True when the JPEG's first scan is followed by an end-of-image marker.</summary>
    public static bool JpegHasEndOfImage(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4 || data[0] != 0xFF || data[1] != 0xD8)
        {
            return false;
        }

        // Walk the header segments (SOI, APPn, DQT, SOF, DHT, ...) to the first start-of-scan, so that an EXIF
        // thumbnail (a whole JPEG inside APP1) cannot be mistaken for the image's own scan.
        int offset = 2;
        while (offset + 4 <= data.Length)
        {
            if (data[offset] != 0xFF)
            {
                return false;
            }

            byte marker = data[offset + 1];
            if (marker == 0xFF)
            {
                offset++; // fill byte
                continue;
            }

            if (marker == 0xD9)
            {
                return false; // end of image before any scan
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                offset += 2; // markers without a length
                continue;
            }

            int length = (data[offset + 2] << 8) | data[offset + 3];
            if (length < 2)
            {
                return false;
            }

            if (marker == 0xDA)
            {
                // Entropy-coded data stuffs every 0xFF with 0x00, so an unstuffed FF D9 after here is the end marker.
                ReadOnlySpan<byte> rest = data[Math.Min(data.Length, offset + 2 + length)..];
                return rest.IndexOf(EndOfImage) >= 0;
            }

            offset += 2 + length;
        }

        return false;
    }

    /// <summary>True when the PNG's chunks are intact up to and including IEND.</summary>
    public static bool PngHasEnd(ReadOnlySpan<byte> data)
    {
        int offset = 8; // signature
        while (offset + 12 <= data.Length)
        {
            uint length = (uint)((data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3]);
            if (length > int.MaxValue - 12 || offset + 12L + length > data.Length)
            {
                return false;
            }

            ReadOnlySpan<byte> type = data.Slice(offset + 4, 4);
            if (type.SequenceEqual("IEND"u8))
            {
                return true;
            }

            offset += 12 + (int)length;
        }

        return false;
    }

    /// <summary>
    /// The PNG without its text chunks (tEXt, zTXt, iTXt) when they hold more than <paramref name="maxTextBytes"/> in all;
    /// otherwise <paramref name="data"/> itself. Text never changes the pixels, but libpng's progressive reader (the one
    /// Skia drives) buffers a chunk by growing and copying its save buffer on every read, so a 40 MB text chunk took
    /// minutes of CPU before the first pixel; without it the decoder sees the same image. The metadata readers still
    /// read the original bytes. Expects a PNG whose chunks are intact (<see cref="PngHasEnd"/>).
    /// </summary>
    public static byte[] PngWithoutLargeText(byte[] data, int maxTextBytes)
    {
        long text = 0;
        foreach ((int offset, int length, bool isText) in PngChunks(data))
        {
            text += isText ? length : 0;
        }

        if (text <= maxTextBytes)
        {
            return data;
        }

        var kept = new MemoryStream(data.Length - (int)Math.Min(text, data.Length));
        kept.Write(data, 0, 8);
        foreach ((int offset, int length, bool isText) in PngChunks(data))
        {
            if (!isText)
            {
                kept.Write(data, offset, 12 + length);
            }
        }

        return kept.ToArray();
    }

    // The chunks up to and including IEND: where each starts, its data length, and whether it is a text chunk.
    private static IEnumerable<(int Offset, int Length, bool IsText)> PngChunks(byte[] data)
    {
        int offset = 8;
        while (offset + 12 <= data.Length)
        {
            uint length = (uint)((data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3]);
            if (length > int.MaxValue - 12 || offset + 12L + length > data.Length)
            {
                yield break;
            }

            ReadOnlyMemory<byte> type = data.AsMemory(offset + 4, 4);
            yield return (offset, (int)length, type.Span.SequenceEqual("tEXt"u8) || type.Span.SequenceEqual("zTXt"u8) || type.Span.SequenceEqual("iTXt"u8));
            if (type.Span.SequenceEqual("IEND"u8))
            {
                yield break;
            }

            offset += 12 + (int)length;
        }
    }
}
