using System.Buffers.Binary;
using System.Text;

namespace ArtGrid.Imaging.Provenance;

/// <summary>One top-level box of a file as a C2PA box hash (<c>c2pa.hash.boxes</c>) names it: a JPEG marker segment, a PNG chunk.</summary>
public readonly record struct C2paBox(string Name, long Start, long Length)
{
    public long End => Start + Length;
}

/// <summary>
/// A file cut into the boxes a C2PA box hash lists, named and bounded as c2pa-rs's asset handlers do (the writer of
/// every box-hashed file seen so far), so that a hash computed there is recomputed here over the same bytes:
/// <list type="bullet">
/// <item>JPEG: "SOI", then one box per marker segment from its 0xFF: "APP0".."APP15", "DQT", "DHT", "DAC", "DRI",
/// "SOF0".."SOF15", "COM", "JPG0".."JPG13", "EOI"; a segment with a length is its 2 marker bytes plus that length, one
/// without is its 2 marker bytes. "SOS" runs from its marker to the next marker that is not a restart (its entropy-coded
/// data, restart markers included), and each restart marker inside it is also a box of its own ("RST0".."RST7", 2 bytes,
/// as c2pa-rs lists them). The APP11 segments of the C2PA store (JUMBF whose description box is of type "c2pa", and
/// those after it with the same box instance number) are one box, "C2PA"; an APP11 segment of 16 bytes or fewer is no
/// box at all.</item>
/// <item>PNG: "PNGh" (the 8-byte signature), then one box per chunk named by its type (length, type, data and CRC);
/// the <c>caBX</c> chunk is "C2PA".</item>
/// </list>
/// The map stops at the first thing it cannot read (a truncated segment, an unknown marker, EOI, IEND): boxes past it are
/// missing, so a box hash that lists them does not match. Bounded: at most <see cref="MaxBoxes"/> boxes, no copy of the file.
/// </summary>
public static class C2paBoxMap
{
    public const string C2paBoxName = "C2PA";
    public const int MaxBoxes = 1 << 16;

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The boxes of a JPEG or a PNG; null for any other container (its box hash is not checked).</summary>
    public static List<C2paBox>? Map(ReadOnlySpan<byte> file)
    {
        if (file.Length >= 2 && file[0] == 0xFF && file[1] == 0xD8)
        {
            return Jpeg(file);
        }

        return file.StartsWith(PngSignature) ? Png(file) : null;
    }

    /// <summary>What to call a container whose box hash is not checked, for the reason a state gives.</summary>
    public static string ContainerName(ReadOnlySpan<byte> file) =>
        file.StartsWith("GIF8"u8) ? "GIF"
        : file.Length >= 12 && file.StartsWith("RIFF"u8) && file[8..12].SequenceEqual("WEBP"u8) ? "WebP"
        : "this container";

    private static List<C2paBox> Jpeg(ReadOnlySpan<byte> file)
    {
        var boxes = new List<C2paBox> { new("SOI", 0, 2) };
        int c2paIndex = -1;
        ushort c2paInstance = 0;
        long position = 2;
        while (boxes.Count < MaxBoxes)
        {
            // The next marker: bytes that are not one are skipped, as are fill bytes (0xFF repeated) before it.
            while (position < file.Length && file[(int)position] != 0xFF)
            {
                position++;
            }

            while (position + 1 < file.Length && file[(int)position + 1] == 0xFF)
            {
                position++;
            }

            if (position + 1 >= file.Length)
            {
                break;
            }

            byte marker = file[(int)position + 1];
            if (marker == 0xD9)
            {
                boxes.Add(new("EOI", position, 2));
                break;
            }

            if (marker is 0xD8 or (>= 0xD0 and <= 0xD7))
            {
                boxes.Add(new(marker == 0xD8 ? "SOI" : $"RST{marker - 0xD0}", position, 2));
                position += 2;
                continue;
            }

            if (JpegName(marker) is not { } name || position + 4 > file.Length)
            {
                break;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(file[((int)position + 2)..]);
            long end = position + 2 + length;
            if (length <= 2 || end > file.Length)
            {
                break;
            }

            if (marker == 0xDA)
            {
                position = Scan(file, position, end, boxes);
                if (position < 0)
                {
                    break;
                }

                continue;
            }

            if (marker == 0xEB)
            {
                ReadOnlySpan<byte> data = file[((int)position + 4)..(int)end];
                if (data.Length > 16)
                {
                    ushort instance = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
                    if (c2paIndex >= 0 && instance == c2paInstance)
                    {
                        // A continuation of the store: its box grows by the whole segment.
                        C2paBox store = boxes[c2paIndex];
                        boxes[c2paIndex] = store with { Length = store.Length + (end - position) };
                    }
                    else if (data.Length < 28)
                    {
                        break;
                    }
                    else if (data[24..28].SequenceEqual("c2pa"u8))
                    {
                        c2paIndex = boxes.Count;
                        c2paInstance = instance;
                        boxes.Add(new(C2paBoxName, position, end - position));
                    }
                    else
                    {
                        boxes.Add(new(name, position, end - position));
                    }
                }

                position = end;
                continue;
            }

            boxes.Add(new(name, position, end - position));
            position = end;
        }

        return boxes;
    }

    // SOS: its header, then entropy-coded data up to the first marker that is neither a stuffed 0xFF00 nor a restart;
    // the restart markers met on the way follow it as boxes of their own. Returns where it ends; -1 when the data runs to
    // the end of the file (no box then).
    private static long Scan(ReadOnlySpan<byte> file, long start, long headerEnd, List<C2paBox> boxes)
    {
        int sos = boxes.Count;
        boxes.Add(new("SOS", start, headerEnd - start));
        long position = headerEnd;
        while (position + 1 < file.Length)
        {
            if (file[(int)position] != 0xFF)
            {
                position++;
                continue;
            }

            byte next = file[(int)position + 1];
            if (next == 0x00)
            {
                position += 2;
                continue;
            }

            if (next is >= 0xD0 and <= 0xD7)
            {
                if (boxes.Count >= MaxBoxes)
                {
                    break;
                }

                boxes.Add(new($"RST{next - 0xD0}", position, 2));
                position += 2;
                continue;
            }

            boxes[sos] = boxes[sos] with { Length = position - start };
            return position;
        }

        boxes.RemoveRange(sos, boxes.Count - sos);
        return -1;
    }

    private static string? JpegName(byte marker) => marker switch
    {
        >= 0xE0 and <= 0xEF => $"APP{marker - 0xE0}",
        0xC4 => "DHT",
        0xCC => "DAC",
        0xC8 => null,
        >= 0xC0 and <= 0xCF => $"SOF{marker - 0xC0}",
        0xDA => "SOS",
        0xDB => "DQT",
        0xDD => "DRI",
        0xFE => "COM",
        >= 0xF0 and <= 0xFD => $"JPG{marker - 0xF0}",
        _ => null,
    };

    private static List<C2paBox> Png(ReadOnlySpan<byte> file)
    {
        var boxes = new List<C2paBox> { new("PNGh", 0, PngSignature.Length) };
        long position = PngSignature.Length;
        while (boxes.Count < MaxBoxes && position + 12 <= file.Length)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(file[(int)position..]);
            ReadOnlySpan<byte> type = file.Slice((int)position + 4, 4);
            if (length > file.Length - position - 12)
            {
                break;
            }

            string name = type.SequenceEqual("caBX"u8) ? C2paBoxName : Encoding.Latin1.GetString(type);
            boxes.Add(new(name, position, length + 12));
            position += length + 12;
            if (type.SequenceEqual("IEND"u8))
            {
                break;
            }
        }

        return boxes;
    }
}
