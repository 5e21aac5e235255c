using System.IO.Compression;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging.Provenance;

/// <summary>
/// Settings hidden in the least significant bits of the pixels, read column by column (x outer, y inner): the magic
/// "stealth_pnginfo" (plain) or "stealth_pngcomp" (gzip) in the alpha channel's bits, or "stealth_rgbinfo" /
/// "stealth_rgbcomp" in the red, green and blue bits of each pixel in turn; then a 32-bit bit count, then the
/// settings. NovelAI writes its JSON this way; AUTOMATIC1111's stealth-pnginfo extension (and Forge, which took it
/// in) writes the A1111 parameters text. Each is named for what it holds. It survives the metadata being stripped,
/// not a lossy re-encode or dropped alpha.
/// </summary>
public static class StealthMetadata
{
    private const int MaxPayloadBits = 8 * 1024 * 1024;
    private const int MaxTextBytes = 1 << 20;
    private const int MagicLength = 15;

    public static Evidence? Read(Image<Rgba32> image)
    {
        long pixels = (long)image.Width * image.Height;
        foreach (bool alpha in new[] { true, false })
        {
            long capacity = alpha ? pixels : pixels * 3;
            if (capacity < (MagicLength * 8) + 32)
            {
                continue;
            }

            var reader = new LsbReader(image, alpha);
            string magic = Encoding.ASCII.GetString(reader.ReadBytes(MagicLength));
            bool compressed;
            if (magic == (alpha ? "stealth_pngcomp" : "stealth_rgbcomp"))
            {
                compressed = true;
            }
            else if (magic == (alpha ? "stealth_pnginfo" : "stealth_rgbinfo"))
            {
                compressed = false;
            }
            else
            {
                continue;
            }

            string where = $"{(alpha ? "alpha channel" : "RGB")} LSBs, '{magic}'";
            long bits = reader.ReadUInt32();
            if (bits <= 0 || bits % 8 != 0 || bits > MaxPayloadBits || bits > capacity - reader.Position)
            {
                return Unreadable($"stealth metadata ({where}) declares {bits} bits");
            }

            byte[] payload = reader.ReadBytes((int)(bits / 8));
            byte[]? text = compressed ? Gunzip(payload) : payload[..Math.Min(payload.Length, MaxTextBytes)];
            return text is null
                ? Unreadable($"stealth metadata ({where}) does not decompress")
                : Name(Encoding.UTF8.GetString(text), where);
        }

        return null;
    }

    // NovelAI's JSON ({"Software": "NovelAI", "Comment": "{…}"}), A1111's parameters text ("…Steps: 20, Sampler: …"),
    // or settings that name neither.
    private static Evidence Name(string content, string where)
    {
        if (content.Contains("NovelAI", StringComparison.OrdinalIgnoreCase) || content.Contains("\"Comment\"", StringComparison.Ordinal))
        {
            return new Evidence(EvidenceSignals.NovelAi, EvidenceStrength.Strong, $"NovelAI settings hidden in the pixels ({where}, {content.Length} characters)", EvidenceDirection.Ai);
        }

        if (ProvenanceReader.LooksLikeA1111(content))
        {
            return new Evidence(EvidenceSignals.A1111Stealth, EvidenceStrength.Strong, $"AUTOMATIC1111 stealth pnginfo ({where}): {ProvenanceReader.SettingsLine(content)}", EvidenceDirection.Ai);
        }

        return new Evidence(EvidenceSignals.StealthPngInfo, EvidenceStrength.Moderate, $"stealth metadata ({where}, {content.Length} characters) naming no generator", EvidenceDirection.Ai);
    }

    private static Evidence Unreadable(string detail) => new(EvidenceSignals.Unreadable, EvidenceStrength.Weak, detail, EvidenceDirection.Unknown);

    private static byte[]? Gunzip(byte[] data)
    {
        using var gzip = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        return MetadataBlocks.ReadCapped(gzip, MaxTextBytes);
    }

    /// <summary>
    /// Least significant bits in column-major order (x outer, y inner), most significant bit first: the alpha channel's,
    /// or red, green and blue of each pixel in turn.
    /// </summary>
    private sealed class LsbReader(Image<Rgba32> image, bool alpha)
    {
        private readonly int _perPixel = alpha ? 1 : 3;

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
            long pixel = Position / _perPixel;
            int channel = (int)(Position % _perPixel);
            int x = (int)(pixel / image.Height), y = (int)(pixel % image.Height);
            Position++;
            Rgba32 value = image[x, y];
            return (alpha ? value.A : channel switch { 0 => value.R, 1 => value.G, _ => value.B }) & 1;
        }
    }
}
