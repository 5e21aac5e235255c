using System.Buffers.Binary;

namespace ArtGrid.Imaging.Decoding;

/// <summary>
/// The EXIF orientation of a JPEG, read as Skia reads it: the first APP1 segment that starts with <c>Exif\0\0</c>, its
/// TIFF header, and in IFD0 the first Orientation entry (tag 0x0112, one SHORT) whose value is 1 to 8. Anything else is 1
/// (as stored).
/// </summary>
public static class JpegOrientation
{
    private const ushort OrientationTag = 0x0112;
    private const ushort ShortType = 3;

    public static ushort Read(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg is not [0xFF, 0xD8, ..])
        {
            return 1;
        }

        // The segments before the first scan: SOI, APPn, DQT, SOF, DHT, ...
        int offset = 2;
        while (offset + 4 <= jpeg.Length && jpeg[offset] == 0xFF)
        {
            byte marker = jpeg[offset + 1];
            if (marker == 0xFF)
            {
                offset++; // fill byte
                continue;
            }

            if (marker is 0xD9 or 0xDA)
            {
                return 1;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                offset += 2;
                continue;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(offset + 2)..]);
            if (length < 2 || offset + 2 + length > jpeg.Length)
            {
                return 1;
            }

            ReadOnlySpan<byte> payload = jpeg.Slice(offset + 4, length - 2);
            if (marker == 0xE1 && payload.StartsWith("Exif\0\0"u8))
            {
                return FromTiff(payload[6..]);
            }

            offset += 2 + length;
        }

        return 1;
    }

    private static ushort FromTiff(ReadOnlySpan<byte> tiff)
    {
        bool little;
        if (tiff.StartsWith("II\x2A\0"u8))
        {
            little = true;
        }
        else if (tiff.StartsWith("MM\0\x2A"u8))
        {
            little = false;
        }
        else
        {
            return 1;
        }

        uint ifd = U32(tiff[4..], little);
        if (ifd > int.MaxValue - 2 || tiff.Length < ifd + 2)
        {
            return 1;
        }

        int entries = Math.Min(U16(tiff[(int)ifd..], little), (tiff.Length - (int)ifd - 2) / 12);
        ReadOnlySpan<byte> entry = tiff[((int)ifd + 2)..];
        for (int i = 0; i < entries; i++, entry = entry[12..])
        {
            if (U16(entry, little) == OrientationTag && U16(entry[2..], little) == ShortType && U32(entry[4..], little) == 1)
            {
                ushort value = U16(entry[8..], little);
                if (value is >= 1 and <= 8)
                {
                    return value;
                }
            }
        }

        return 1;
    }

    private static ushort U16(ReadOnlySpan<byte> b, bool little) => little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);

    private static uint U32(ReadOnlySpan<byte> b, bool little) => little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
}
