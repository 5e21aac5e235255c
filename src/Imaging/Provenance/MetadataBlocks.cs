using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ArtGrid.Imaging.Provenance;

/// <summary>Limits that keep evidence extraction bounded in time and memory whatever the file says about itself.</summary>
public sealed record ProvenanceLimits(int MaxTextBytes = 1 << 20, int MaxBlocks = 1024, int MaxJumbfBytes = 16 << 20)
{
    public static ProvenanceLimits Default { get; } = new();
}

/// <summary>
/// The metadata blocks of one file, found by walking its container (JPEG segments, PNG chunks, WebP RIFF chunks, GIF
/// blocks) without decoding any pixels: EXIF, XMP, text chunks, and the C2PA JUMBF store (APP11 segments reassembled,
/// GIF sub-blocks joined).
/// </summary>
public sealed class MetadataBlocks
{
    public List<byte[]> Exif { get; } = [];

    public List<string> Xmp { get; } = [];

    public List<(string Key, string Text)> Texts { get; } = [];

    public byte[]? Jumbf { get; set; }

    /// <summary>Blocks that were there but could not be read, and why.</summary>
    public List<string> Problems { get; } = [];

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] XmpJpegHeader = "http://ns.adobe.com/xap/1.0/\0"u8.ToArray();
    private static readonly byte[] ExifJpegHeader = "Exif\0\0"u8.ToArray();

    public static MetadataBlocks Scan(ReadOnlySpan<byte> file, ProvenanceLimits limits)
    {
        var blocks = new MetadataBlocks();
        if (file.Length >= 4 && file[0] == 0xFF && file[1] == 0xD8)
        {
            blocks.ScanJpeg(file, limits);
        }
        else if (file.StartsWith(PngSignature))
        {
            blocks.ScanPng(file, limits);
        }
        else if (file.Length >= 12 && file[..4].SequenceEqual("RIFF"u8) && file.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            blocks.ScanWebP(file, limits);
        }
        else if (file.Length >= 13 && (file[..6].SequenceEqual("GIF89a"u8) || file[..6].SequenceEqual("GIF87a"u8)))
        {
            blocks.ScanGif(file, limits);
        }

        return blocks;
    }

    private void ScanJpeg(ReadOnlySpan<byte> file, ProvenanceLimits limits)
    {
        var jumbf = new JumbfAssembler(limits.MaxJumbfBytes);
        int position = 2;
        for (int count = 0; position + 4 <= file.Length && count < limits.MaxBlocks; count++)
        {
            if (file[position] != 0xFF)
            {
                Problems.Add($"JPEG: no marker at byte {position}");
                break;
            }

            byte marker = file[position + 1];
            if (marker == 0xFF)
            {
                position++; // fill byte
                continue;
            }

            if (marker is 0xD9 or 0xDA)
            {
                break; // end of image, or start of scan: no metadata after this point matters
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                position += 2;
                continue;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(file[(position + 2)..]);
            if (length < 2 || position + 2 + length > file.Length)
            {
                Problems.Add($"JPEG: segment 0xFF{marker:X2} at byte {position} runs past the end of the file");
                break;
            }

            ReadOnlySpan<byte> payload = file.Slice(position + 4, length - 2);
            if (marker == 0xE1 && payload.StartsWith(ExifJpegHeader))
            {
                Exif.Add(payload[ExifJpegHeader.Length..].ToArray());
            }
            else if (marker == 0xE1 && payload.StartsWith(XmpJpegHeader))
            {
                Xmp.Add(Encoding.UTF8.GetString(payload[XmpJpegHeader.Length..]));
            }
            else if (marker == 0xEB && payload.Length >= 8 && payload[0] == (byte)'J' && payload[1] == (byte)'P')
            {
                // C2PA in JPEG: APP11 "JP", box instance (2), sequence number (4), then the JUMBF box; each later
                // segment of the same instance repeats the box header, which is dropped when reassembling.
                jumbf.Add(BinaryPrimitives.ReadUInt16BigEndian(payload[2..]), BinaryPrimitives.ReadUInt32BigEndian(payload[4..]), payload[8..]);
            }

            position += 2 + length;
        }

        Jumbf = jumbf.Result;
        if (jumbf.Problem is { } problem)
        {
            Problems.Add(problem);
        }
    }

    private void ScanPng(ReadOnlySpan<byte> file, ProvenanceLimits limits)
    {
        int position = PngSignature.Length;
        for (int count = 0; position + 12 <= file.Length && count < limits.MaxBlocks; count++)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(file[position..]);
            string type = Encoding.ASCII.GetString(file.Slice(position + 4, 4));
            if (length > int.MaxValue || position + 12L + length > file.Length)
            {
                Problems.Add($"PNG: chunk {type} at byte {position} runs past the end of the file");
                break;
            }

            ReadOnlySpan<byte> data = file.Slice(position + 8, (int)length);
            switch (type)
            {
                case "tEXt":
                    AddLatin1Text(data, limits);
                    break;
                case "zTXt":
                    AddCompressedText(data, limits);
                    break;
                case "iTXt":
                    AddInternationalText(data, limits);
                    break;
                case "eXIf":
                    Exif.Add(data.ToArray());
                    break;
                case "caBX":
                    Jumbf = data.Length <= limits.MaxJumbfBytes ? data.ToArray() : null;
                    break;
                case "IEND":
                    return;
            }

            position += 12 + (int)length;
        }
    }

    private void ScanWebP(ReadOnlySpan<byte> file, ProvenanceLimits limits)
    {
        int position = 12;
        for (int count = 0; position + 8 <= file.Length && count < limits.MaxBlocks; count++)
        {
            string type = Encoding.ASCII.GetString(file.Slice(position, 4));
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(file[(position + 4)..]);
            if (length > int.MaxValue || position + 8L + length > file.Length)
            {
                Problems.Add($"WebP: chunk '{type}' at byte {position} runs past the end of the file");
                break;
            }

            ReadOnlySpan<byte> data = file.Slice(position + 8, (int)length);
            switch (type)
            {
                case "EXIF":
                    Exif.Add((data.StartsWith(ExifJpegHeader) ? data[ExifJpegHeader.Length..] : data).ToArray());
                    break;
                case "XMP ":
                    Xmp.Add(Encoding.UTF8.GetString(data));
                    break;
                case "C2PA":
                    Jumbf = data.Length <= limits.MaxJumbfBytes ? data.ToArray() : null;
                    break;
            }

            position += 8 + (int)length + (int)(length & 1);
        }
    }

    /// <summary>
    /// GIF: header, logical screen descriptor and global colour table, then blocks. C2PA's store is an application
    /// extension "C2PA_GIF" (authentication code 01 00 00, as c2pa-rs writes it right after the colour table), XMP
    /// the "XMP Data" / "XMP" one; both are data sub-blocks (a length byte, then that many bytes, until a zero).
    /// </summary>
    private void ScanGif(ReadOnlySpan<byte> file, ProvenanceLimits limits)
    {
        byte packed = file[10];
        int position = 13 + ((packed & 0x80) != 0 ? 3 << ((packed & 7) + 1) : 0);
        for (int count = 0; position < file.Length && count < limits.MaxBlocks; count++)
        {
            byte introducer = file[position];
            if (introducer == 0x3B)
            {
                return; // trailer
            }

            if (introducer == 0x2C)
            {
                // Image descriptor (9 bytes), local colour table, LZW code size, image data sub-blocks.
                if (position + 10 > file.Length)
                {
                    break;
                }

                byte local = file[position + 9];
                position += 10 + ((local & 0x80) != 0 ? 3 << ((local & 7) + 1) : 0) + 1;
                position = SkipSubBlocks(file, position);
                continue;
            }

            if (introducer != 0x21 || position + 2 > file.Length)
            {
                Problems.Add($"GIF: no block at byte {position}");
                return;
            }

            int start = position + 2;
            if (file[position + 1] == 0xFF && start + 12 <= file.Length && file[start] == 11)
            {
                ReadOnlySpan<byte> application = file.Slice(start + 1, 11);
                int data = start + 12;
                int end = SkipSubBlocks(file, data);
                if (application.SequenceEqual("C2PA_GIF\x01\0\0"u8))
                {
                    Jumbf = end <= file.Length ? JoinSubBlocks(file[data..end], limits.MaxJumbfBytes) : null;
                    if (Jumbf is null)
                    {
                        Problems.Add(end > file.Length ? "GIF: the C2PA block runs past the end of the file" : $"C2PA: JUMBF over {limits.MaxJumbfBytes} bytes");
                    }
                }
                else if (application.SequenceEqual("XMP DataXMP"u8) && end <= file.Length)
                {
                    AddGifXmp(file[data..end], limits);
                }

                position = end;
                continue;
            }

            position = SkipSubBlocks(file, start);
        }

        if (position > file.Length)
        {
            Problems.Add("GIF: a block runs past the end of the file");
        }
    }

    // The position after a run of data sub-blocks and its zero terminator (past the end of the file when truncated).
    private static int SkipSubBlocks(ReadOnlySpan<byte> file, int position)
    {
        while (position < file.Length && file[position] != 0)
        {
            position += file[position] + 1;
        }

        return position + 1;
    }

    private static byte[]? JoinSubBlocks(ReadOnlySpan<byte> blocks, int max)
    {
        var joined = new MemoryStream();
        for (int position = 0; position < blocks.Length && blocks[position] != 0; position += blocks[position] + 1)
        {
            joined.Write(blocks.Slice(position + 1, blocks[position]));
            if (joined.Length > max)
            {
                return null;
            }
        }

        return joined.ToArray();
    }

    // XMP in GIF ends with a 258-byte "magic trailer" (01 FF FE … 01 00, then the terminator) that makes its raw bytes
    // read as sub-blocks. Adobe writes the packet raw; c2pa-rs splits it, trailer included, into real sub-blocks.
    private void AddGifXmp(ReadOnlySpan<byte> data, ProvenanceLimits limits)
    {
        byte[] bytes = data.Length > 0 && data[0] == (byte)'<' ? data.ToArray() : JoinSubBlocks(data, limits.MaxTextBytes) ?? [];
        int end = bytes.AsSpan().IndexOf("<?xpacket end="u8);
        int close = end < 0 ? -1 : bytes.AsSpan(end).IndexOf("?>"u8);
        int length = close >= 0 ? end + close + 2 : Math.Max(0, bytes.Length - 258);
        Xmp.Add(Encoding.UTF8.GetString(bytes, 0, Math.Min(length, limits.MaxTextBytes)));
    }

    private void AddLatin1Text(ReadOnlySpan<byte> data, ProvenanceLimits limits)
    {
        int zero = data.IndexOf((byte)0);
        if (zero <= 0)
        {
            Problems.Add("PNG: tEXt chunk without a keyword");
            return;
        }

        string key = Encoding.Latin1.GetString(data[..zero]);
        ReadOnlySpan<byte> text = data[(zero + 1)..];
        if (text.Length > limits.MaxTextBytes)
        {
            SkipText("tEXt", key, text.Length, limits);
            return;
        }

        Texts.Add((key, Encoding.Latin1.GetString(text)));
    }

    // Text over the limit is not read at all: its first part could be anything (a generator's settings cut in the middle,
    // a prompt padded to hide them), and reading it would cost time out of proportion to what it can say. The file is
    // scored without it, and the skip is reported.
    private void SkipText(string chunk, string key, long? length, ProvenanceLimits limits) =>
        Problems.Add(length is { } bytes
            ? $"PNG: {chunk} '{key}' holds {bytes} bytes of text, over the {limits.MaxTextBytes}-byte limit: not read"
            : $"PNG: {chunk} '{key}' inflates past the {limits.MaxTextBytes}-byte text limit: not read");

    private void AddCompressedText(ReadOnlySpan<byte> data, ProvenanceLimits limits)
    {
        int zero = data.IndexOf((byte)0);
        if (zero <= 0 || zero + 2 > data.Length)
        {
            Problems.Add("PNG: zTXt chunk without a keyword");
            return;
        }

        string key = Encoding.Latin1.GetString(data[..zero]);
        if (Inflate(data[(zero + 2)..], limits.MaxTextBytes + 1) is { } bytes)
        {
            if (bytes.Length > limits.MaxTextBytes)
            {
                SkipText("zTXt", key, null, limits);
                return;
            }

            Texts.Add((key, Encoding.Latin1.GetString(bytes)));
        }
        else
        {
            Problems.Add($"PNG: zTXt '{key}' does not inflate");
        }
    }

    private void AddInternationalText(ReadOnlySpan<byte> data, ProvenanceLimits limits)
    {
        // keyword \0 compression-flag compression-method language \0 translated-keyword \0 text
        int zero = data.IndexOf((byte)0);
        if (zero <= 0 || zero + 3 > data.Length)
        {
            Problems.Add("PNG: iTXt chunk without a keyword");
            return;
        }

        string key = Encoding.Latin1.GetString(data[..zero]);
        bool compressed = data[zero + 1] == 1;
        ReadOnlySpan<byte> rest = data[(zero + 3)..];
        int language = rest.IndexOf((byte)0);
        int translated = language < 0 ? -1 : rest[(language + 1)..].IndexOf((byte)0);
        if (translated < 0)
        {
            Problems.Add($"PNG: iTXt '{key}' is truncated");
            return;
        }

        ReadOnlySpan<byte> text = rest[(language + 1 + translated + 1)..];
        if (!compressed && text.Length > limits.MaxTextBytes)
        {
            SkipText("iTXt", key, text.Length, limits);
            return;
        }

        byte[]? bytes = compressed ? Inflate(text, limits.MaxTextBytes + 1) : text.ToArray();
        if (bytes is null)
        {
            Problems.Add($"PNG: iTXt '{key}' does not inflate");
            return;
        }

        if (bytes.Length > limits.MaxTextBytes)
        {
            SkipText("iTXt", key, null, limits);
            return;
        }

        Texts.Add((key, DecodeUtf8(bytes, out bool valid)));
        if (!valid)
        {
            Problems.Add($"PNG: iTXt '{key}' is not valid UTF-8");
        }
    }

    /// <summary>Inflates at most <paramref name="max"/> bytes (a zlib bomb stops there); null when the data is not zlib.</summary>
    internal static byte[]? Inflate(ReadOnlySpan<byte> zlib, int max)
    {
        using var inflater = new ZLibStream(new MemoryStream(zlib.ToArray(), writable: false), CompressionMode.Decompress);
        return ReadCapped(inflater, max);
    }

    /// <summary>
    /// The first <paramref name="max"/> bytes a decompressing stream yields (whatever it would yield beyond is never
    /// produced), or null when its data is not what it decompresses: <see cref="InvalidDataException"/> for most damage,
    /// but zlib's other error codes come as ZLibException, an <see cref="IOException"/> (found by fuzz/run.sh metadata: a
    /// zTXt chunk whose deflate data made inflate fail that way threw out of ProvenanceReader.Read). The streams here read
    /// from memory, so an IOException can only be the data's.
    /// </summary>
    internal static byte[]? ReadCapped(Stream decompressing, int max)
    {
        try
        {
            var output = new MemoryStream();
            byte[] buffer = new byte[16 * 1024];
            int read;
            while (output.Length < max && (read = decompressing.Read(buffer, 0, (int)Math.Min(buffer.Length, max - output.Length))) > 0)
            {
                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            return null;
        }
    }

    internal static string DecodeUtf8(byte[] bytes, out bool valid)
    {
        try
        {
            valid = true;
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            valid = false;
            return Encoding.UTF8.GetString(bytes);
        }
    }

    /// <summary>
    /// Reassembles the C2PA store spread over JPEG APP11 segments (JPEG XT boxes): each segment carries "JP", a box
    /// instance number and a sequence number, then the box, its header (LBox and TBox, with XLBox when LBox is 1)
    /// repeated in every segment after the first. Real writers differ from the letter of ISO 19566-5: Microsoft's
    /// Image Creator numbers its single segment 0, not 1, and a file may carry other JUMBF instances than C2PA's, so
    /// the store is the instance whose box is labelled "c2pa", and its sequence starts at its first number (0 or 1)
    /// and must then run without a gap.
    /// </summary>
    private sealed class JumbfAssembler(int maxBytes)
    {
        private readonly Dictionary<ushort, SortedDictionary<uint, byte[]>> _parts = [];
        private long _bytes;

        public string? Problem { get; private set; }

        public byte[]? Result
        {
            get
            {
                if (Problem is not null)
                {
                    return null; // the segments ran over the limit while they were being collected
                }

                string? other = null;
                foreach ((ushort instance, SortedDictionary<uint, byte[]> parts) in _parts.OrderBy(p => p.Key))
                {
                    uint first = parts.First().Key;
                    if (first > 1)
                    {
                        Problem = $"C2PA: JUMBF instance {instance} misses segment {(first == 2 ? "1" : $"1 to {first - 1}")}";
                        return null;
                    }

                    if (StoreLabel(parts.First().Value) is var label && label != "c2pa")
                    {
                        other ??= label; // another JUMBF box than the C2PA store
                        continue;
                    }

                    var box = new MemoryStream();
                    uint expected = first;
                    int headerLength = 0;
                    foreach ((uint sequence, byte[] part) in parts)
                    {
                        if (sequence != expected++)
                        {
                            Problem = $"C2PA: JUMBF instance {instance} misses segment {expected - 1}";
                            return null;
                        }

                        if (box.Length == 0)
                        {
                            headerLength = BinaryPrimitives.ReadUInt32BigEndian(part) == 1 ? 16 : 8;
                            box.Write(part);
                        }
                        else if (part.Length >= headerLength)
                        {
                            box.Write(part, headerLength, part.Length - headerLength);
                        }

                        if (box.Length > maxBytes)
                        {
                            Problem = $"C2PA: JUMBF over {maxBytes} bytes";
                            return null;
                        }
                    }

                    return box.ToArray(); // one manifest store per file: a second C2PA instance is ignored
                }

                // A store of another label (the draft Content Authenticity format's "cai") is there but not C2PA's.
                if (!string.IsNullOrEmpty(other))
                {
                    Problem = $"C2PA: the JUMBF store is labelled '{other}', not 'c2pa'";
                }

                return null;
            }
        }

        public void Add(ushort instance, uint sequence, ReadOnlySpan<byte> part)
        {
            // Segments are at most 64 KB each and their number is bounded by the block limit; the total is capped here
            // as well, so that a file of many segments does not hold more than the store may be.
            if (Problem is not null || (_bytes += part.Length) > maxBytes + (1L << 16))
            {
                Problem ??= $"C2PA: JUMBF over {maxBytes} bytes";
                return;
            }

            if (!_parts.TryGetValue(instance, out SortedDictionary<uint, byte[]>? parts))
            {
                _parts[instance] = parts = [];
            }

            parts[sequence] = part.ToArray();
        }

        // The label of the 'jumb' superbox a first segment starts, from its description box ('jumd': UUID, toggles,
        // then the label, NUL-terminated): "c2pa" for a C2PA store.
        private static string StoreLabel(byte[] part)
        {
            int description = part.Length >= 8 && BinaryPrimitives.ReadUInt32BigEndian(part) == 1 ? 16 : 8;
            int start = description + 8 + 16 + 1;
            if (part.Length < start || !part.AsSpan(4, 4).SequenceEqual("jumb"u8) || !part.AsSpan(description + 4, 4).SequenceEqual("jumd"u8))
            {
                return "";
            }

            int end = part.AsSpan(start, Math.Min(part.Length - start, 64)).IndexOf((byte)0);
            return end < 0 ? "" : Encoding.ASCII.GetString(part, start, end);
        }
    }
}
