using System.IO.Compression;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging.Provenance;

/// <summary>
/// NovelAI's "stealth" metadata (also written by the stealth-pnginfo extension): the least significant bits of the
/// alpha channel, read column by column, spell "stealth_pnginfo" (plain) or "stealth_pngcomp" (gzip), a 32-bit bit
/// count, then the settings. It survives the metadata being stripped, not a lossy re-encode or dropped alpha.
/// </summary>
public static class StealthMetadata
{
    private const int MaxPayloadBits = 8 * 1024 * 1024;
    private const int MaxTextBytes = 1 << 20;
    private static readonly byte[] Plain = "stealth_pnginfo"u8.ToArray();
    private static readonly byte[] Compressed = "stealth_pngcomp"u8.ToArray();

    public static Evidence? Read(Image<Rgba32> image)
    {
        int capacity = image.Width * image.Height;
        if (capacity < (Plain.Length * 8) + 32)
        {
            return null;
        }

        var reader = new AlphaBits(image);
        byte[] magic = reader.ReadBytes(Plain.Length);
        bool compressed = magic.AsSpan().SequenceEqual(Compressed);
        if (!compressed && !magic.AsSpan().SequenceEqual(Plain))
        {
            return null;
        }

        long bits = reader.ReadUInt32();
        if (bits <= 0 || bits % 8 != 0 || bits > MaxPayloadBits || bits > capacity - reader.Position)
        {
            return Unreadable($"alpha-channel metadata declares {bits} bits");
        }

        byte[] payload = reader.ReadBytes((int)(bits / 8));
        byte[]? text = compressed ? Gunzip(payload) : payload;
        if (text is null)
        {
            return Unreadable("alpha-channel metadata does not decompress");
        }

        string content = Encoding.UTF8.GetString(text);
        return content.Contains("NovelAI", StringComparison.OrdinalIgnoreCase) || content.Contains("\"Comment\"", StringComparison.Ordinal)
            ? new Evidence(EvidenceSignals.NovelAi, EvidenceStrength.Strong, $"NovelAI settings hidden in the alpha channel ({content.Length} characters)", EvidenceDirection.Ai)
            : new Evidence(EvidenceSignals.NovelAi, EvidenceStrength.Moderate, $"stealth metadata in the alpha channel ({content.Length} characters) not naming NovelAI", EvidenceDirection.Ai);
    }

    private static Evidence Unreadable(string detail) => new(EvidenceSignals.Unreadable, EvidenceStrength.Weak, detail, EvidenceDirection.Unknown);

    private static byte[]? Gunzip(byte[] data)
    {
        using var gzip = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        return MetadataBlocks.ReadCapped(gzip, MaxTextBytes);
    }

    /// <summary>Alpha least significant bits in column-major order (x outer, y inner), most significant bit first.</summary>
    private sealed class AlphaBits(Image<Rgba32> image)
    {
        public long Position { get; private set; }

        public byte[] ReadBytes(int count)
        {
            var bytes = new byte[count];
            for (int i = 0; i < count; i++)
            {
                for (int b = 0; b < 8; b++)
                {
                    bytes[i] = (byte)((bytes[i] << 1) | Next());
                }
            }

            return bytes;
        }

        public uint ReadUInt32()
        {
            uint value = 0;
            for (int b = 0; b < 32; b++)
            {
                value = (value << 1) | (uint)Next();
            }

            return value;
        }

        private int Next()
        {
            int x = (int)(Position / image.Height), y = (int)(Position % image.Height);
            Position++;
            return image[x, y].A & 1;
        }
    }
}
