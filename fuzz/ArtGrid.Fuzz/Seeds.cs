using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Provenance;
using ArtGrid.Imaging.Sandbox;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Fuzz;

/// <summary>
/// Each target's seed corpus: the repository's own images (the provenance assets and the public fixtures) with their
/// pixel data cut short, since only the structure around it is read; the C2PA stores found in them; pixels carrying
/// stealth metadata; protocol frames written by the protocol's own writers; and the inputs that once crashed a target
/// (tests/assets/fuzz, named for their target).
/// </summary>
public static class Seeds
{
    /// <summary>Seeds over this are left out: afl-fuzz mutates every byte of a seed, and the walkers read the same structure in less.</summary>
    private const int MaxSeedBytes = 128 * 1024;

    /// <summary>What is kept of the entropy-coded or compressed pixel data of a file.</summary>
    private const int KeptPixelBytes = 32;

    public static int Write(string folder, IEnumerable<string> files)
    {
        var seeds = new Dictionary<string, Dictionary<string, byte[]>>();
        // Named by content, so that a file and its copy elsewhere make one seed.
        void Add(string target, byte[] data)
        {
            if (data.Length is > 0 and <= MaxSeedBytes)
            {
                Dictionary<string, byte[]> own = seeds.TryGetValue(target, out var existing) ? existing : seeds[target] = [];
                own.TryAdd(Convert.ToHexString(SHA256.HashData(data))[..16].ToLowerInvariant(), data);
            }
        }

        foreach (string file in files)
        {
            byte[] bytes = File.ReadAllBytes(file);
            string name = Path.GetFileName(file);
            if (Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file))) == "fuzz"
                && Targets.All.Keys.FirstOrDefault(t => name.StartsWith(t + "-", StringComparison.Ordinal)) is { } own)
            {
                // A regression input (tests/assets/fuzz/TARGET-….…) seeds its own target as it is.
                Add(own, bytes);
                continue;
            }

            byte[] structure = WithoutPixelData(bytes);
            Add("container", structure);
            Add("metadata", structure);
            if (MetadataBlocks.Scan(bytes, ProvenanceLimits.Default).Jumbf is { } jumbf)
            {
                Add("c2pa", jumbf);
            }

            if (name.Contains("stealth", StringComparison.OrdinalIgnoreCase) && Image.DetectFormat(bytes) is not null)
            {
                using Image<Rgba32> image = Image.Load<Rgba32>(bytes);
                if (image.Height <= 255)
                {
                    Add("pixels", RawPixels(image));
                }
            }
        }

        foreach (byte[] data in StealthSeeds())
        {
            Add("pixels", data);
        }

        foreach (byte[] data in ProtocolSeeds())
        {
            Add("protocol", data);
        }

        int count = 0;
        foreach ((string target, Dictionary<string, byte[]> own) in seeds)
        {
            string directory = Path.Combine(folder, target);
            Directory.CreateDirectory(directory);
            foreach ((string hash, byte[] data) in own)
            {
                File.WriteAllBytes(Path.Combine(directory, hash), data);
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// The file with its pixel data cut to a few bytes: a JPEG's first scan and what follows it (an end marker is put
    /// back), the first PNG IDAT (later ones dropped), a WebP's VP8/VP8L/ALPH/ANMF chunks. Lengths stay consistent; CRCs are
    /// not recomputed, since no reader checks them.
    /// </summary>
    internal static byte[] WithoutPixelData(byte[] file)
    {
        var output = new MemoryStream();
        if (file.Length > 4 && file[0] == 0xFF && file[1] == 0xD8)
        {
            int position = 2;
            while (position + 4 <= file.Length && file[position] == 0xFF)
            {
                byte marker = file[position + 1];
                int length = BinaryPrimitives.ReadUInt16BigEndian(file.AsSpan(position + 2));
                if (marker == 0xDA)
                {
                    int end = Math.Min(file.Length, position + 2 + length + KeptPixelBytes);
                    output.Write(file, 0, end);
                    output.Write([0xFF, 0xD9]);
                    return output.ToArray();
                }

                position += 2 + length;
            }

            return file;
        }

        if (file.AsSpan().StartsWith("\x89PNG\r\n\x1a\n"u8))
        {
            output.Write(file, 0, 8);
            bool idat = false;
            int position = 8;
            while (position + 12 <= file.Length)
            {
                int length = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(position)), int.MaxValue - 12);
                if (position + 12L + length > file.Length)
                {
                    break;
                }

                if (file.AsSpan(position + 4, 4).SequenceEqual("IDAT"u8))
                {
                    if (!idat)
                    {
                        idat = true;
                        WriteChunk(output, "IDAT"u8, file.AsSpan(position + 8, Math.Min(length, KeptPixelBytes)), bigEndian: true);
                    }
                }
                else
                {
                    output.Write(file, position, 12 + length);
                }

                position += 12 + length;
            }

            return output.ToArray();
        }

        if (file.Length >= 12 && file.AsSpan(0, 4).SequenceEqual("RIFF"u8) && file.AsSpan(8, 4).SequenceEqual("WEBP"u8))
        {
            output.Write(file, 0, 12);
            int position = 12;
            while (position + 8 <= file.Length)
            {
                int length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(position + 4)), int.MaxValue - 9);
                if (position + 8L + length > file.Length)
                {
                    break;
                }

                ReadOnlySpan<byte> type = file.AsSpan(position, 4);
                bool pixels = type.SequenceEqual("VP8 "u8) || type.SequenceEqual("VP8L"u8) || type.SequenceEqual("ALPH"u8) || type.SequenceEqual("ANMF"u8);
                WriteChunk(output, type, file.AsSpan(position + 8, pixels ? Math.Min(length, KeptPixelBytes) : length), bigEndian: false);
                position += 8 + length + (length & 1);
            }

            byte[] webp = output.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(webp.AsSpan(4), (uint)(webp.Length - 8));
            return webp;
        }

        return file;
    }

    private static void WriteChunk(MemoryStream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data, bool bigEndian)
    {
        Span<byte> length = stackalloc byte[4];
        if (bigEndian)
        {
            // PNG: length, type, data, CRC (left zero).
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)data.Length);
            output.Write(length);
            output.Write(type);
            output.Write(data);
            output.Write([0, 0, 0, 0]);
            return;
        }

        // RIFF: type, length, data, a pad byte to an even length.
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)data.Length);
        output.Write(type);
        output.Write(length);
        output.Write(data);
        if (data.Length % 2 == 1)
        {
            output.WriteByte(0);
        }
    }

    /// <summary>The pixels target's input: the height, then the RGBA pixels row by row.</summary>
    internal static byte[] RawPixels(Image<Rgba32> image)
    {
        var data = new byte[1 + (image.Width * image.Height * 4)];
        data[0] = (byte)image.Height;
        image.CopyPixelDataTo(data.AsSpan(1));
        return data;
    }

    /// <summary>
    /// Grey images (10 rows) with settings in the least significant bits, column by column as the writers put them: A1111
    /// parameters in the alpha channel, NovelAI's gzipped JSON in the alpha channel, plain text in the RGB bits, and a
    /// header whose bit count runs past the image.
    /// </summary>
    private static IEnumerable<byte[]> StealthSeeds()
    {
        const string a1111 = "a cat on a sofa\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512";
        const string novelAi = """{"Software":"NovelAI","Comment":"{\"steps\": 28, \"sampler\": \"k_euler\"}"}""";
        yield return Stealth("stealth_pnginfo", Encoding.UTF8.GetBytes(a1111), alpha: true);
        yield return Stealth("stealth_pngcomp", Gzip(novelAi), alpha: true);
        yield return Stealth("stealth_rgbinfo", Encoding.UTF8.GetBytes("Steps: 30, Sampler: DPM++ 2M"), alpha: false);
        yield return Stealth("stealth_rgbcomp", Gzip(a1111), alpha: false);
        yield return Stealth("stealth_pnginfo", [0x41], alpha: true, declaredBits: 1 << 20);
    }

    private static byte[] Stealth(string magic, byte[] payload, bool alpha, uint? declaredBits = null)
    {
        var bits = new List<int>();
        void Add(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
            {
                for (int i = 7; i >= 0; i--)
                {
                    bits.Add((b >> i) & 1);
                }
            }
        }

        Add(Encoding.ASCII.GetBytes(magic));
        uint count = declaredBits ?? (uint)(payload.Length * 8);
        Add([(byte)(count >> 24), (byte)(count >> 16), (byte)(count >> 8), (byte)count]);
        Add(payload);

        const int height = 10;
        int perPixel = alpha ? 1 : 3;
        int width = Math.Max(8, (bits.Count + (perPixel * height) - 1) / (perPixel * height));
        using var image = new Image<Rgba32>(width, height, new Rgba32(128, 128, 128, 254));
        for (int i = 0; i < bits.Count; i++)
        {
            int pixel = i / perPixel, channel = i % perPixel;
            int x = pixel / height, y = pixel % height;
            Rgba32 value = image[x, y];
            if (alpha)
            {
                value.A = (byte)((value.A & 0xFE) | bits[i]);
            }
            else if (channel == 0)
            {
                value.R = (byte)((value.R & 0xFE) | bits[i]);
            }
            else if (channel == 1)
            {
                value.G = (byte)((value.G & 0xFE) | bits[i]);
            }
            else
            {
                value.B = (byte)((value.B & 0xFE) | bits[i]);
            }

            image[x, y] = value;
        }

        return RawPixels(image);
    }

    private static byte[] Gzip(string text)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    /// <summary>
    /// Frames as the supervisor and the worker write them: two decode requests in a row (0 first), and a worker's ready,
    /// header, successful result with evidence and the oriented image, and failed result (1 first).
    /// </summary>
    private static IEnumerable<byte[]> ProtocolSeeds()
    {
        var requests = new MemoryStream();
        requests.WriteByte(0);
        DecodeProtocol.WriteDecodeRequestAsync(requests, 1, new ImageFraming(224, 224), [0xFF, 0xD8, 0xFF, 0xD9]).GetAwaiter().GetResult();
        DecodeProtocol.WriteDecodeRequestAsync(requests, 2, new ImageFraming(224, 160, ImageFit.Crop, 768), [.. "\x89PNG\r\n\x1a\n"u8], keepOriented: true).GetAwaiter().GetResult();
        yield return requests.ToArray();

        var worker = new MemoryStream();
        worker.WriteByte(1);
        DecodeProtocol.WriteFrame(worker, DecodeProtocol.Ready(4242, "Skia", "Landlock ABI 7: no file writes, no TCP; seccomp: 34 system calls refused"));
        DecodeProtocol.WriteFrame(worker, DecodeProtocol.Header(1, 640, 480));
        Evidence[] evidence = [new(EvidenceSignals.SdWatermark, EvidenceStrength.Strong, "bit error rate 0.02", EvidenceDirection.Ai)];
        DecodeProtocol.WriteResult(worker, 1, new PreparedImage(null, null, "PNG", 3, 2, evidence), new byte[2 * 2 * 3], 3, 2, new byte[3 * 2 * 3]);
        DecodeProtocol.WriteResult(worker, 2, PreparedImage.Fail(ErrorCodes.DecodeFailed, "The PNG file is truncated.", "PNG"), []);
        yield return worker.ToArray();
    }
}
