using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests;

/// <summary>Real files of the repository (samples, models) and hostile files made from them.</summary>
public static class TestAssets
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string SamplesDir => Path.Combine(RepositoryRoot, "samples");

    public static string ModelsDir => Path.Combine(RepositoryRoot, "models");

    /// <summary>The model a host serves when none is named: the newest version of artgrid-resnet18.</summary>
    public const string DefaultModelId = "artgrid-resnet18/3";

    /// <summary>A real photograph (skimage's "chelsea", CC0), 451x300 JPEG.</summary>
    public static string Photo => Path.Combine(SamplesDir, "human", "photo-chelsea-cat.jpg");

    public static IReadOnlyList<string> SampleImages =>
        Directory.EnumerateFiles(SamplesDir, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    /// <summary>A model input of pixels as they are (scale 1, mean 0, std 1, RGB planar), so tensors read back as colours.</summary>
    public static ModelInputSpec RawPixels { get; } = new("input", 224, 224, TensorLayout.Nchw, ChannelOrder.Rgb, 1f, [0f, 0f, 0f], [1f, 1f, 1f]);

    /// <summary>Reference outputs that image tests compare with (tests/assets/reference).</summary>
    public static string ReferenceFile(string name) => Path.Combine(RepositoryRoot, "tests", "assets", "reference", name);

    /// <summary>Real generator files with provenance metadata and what each should show (tests/assets/provenance).</summary>
    public static string ProvenanceSamplesDir => Path.Combine(RepositoryRoot, "tests", "assets", "provenance");

    /// <summary>Inputs that fuzz/run.sh found crashing a reader, kept as they were found (tests/assets/fuzz).</summary>
    public static string FuzzInput(string name) => Path.Combine(RepositoryRoot, "tests", "assets", "fuzz", name);

    private static string FindRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "ArtGrid.sln")))
            {
                return dir;
            }
        }

        throw new DirectoryNotFoundException("ArtGrid.sln not found above the test binaries.");
    }

    /// <summary>The hostile inputs every entry point must turn into a per-image error, with their expected codes.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes, string ExpectedCode)> BadFiles()
    {
        byte[] jpeg = File.ReadAllBytes(Photo);
        return
        [
            ("zero-bytes.jpg", [], "empty_file"),
            ("truncated.jpg", jpeg[..(jpeg.Length / 2)], "decode_failed"),
            ("wrong-extension.png", "this is a text file, not an image\n"u8.ToArray(), "unsupported_format"),
            ("real.tiff", Tiff(), "unsupported_format"),
            ("huge-header.png", PngHeaderOnly(100_000, 100_000), "too_large"),
        ];
    }

    /// <summary>A real TIFF written by ImageSharp's encoder.</summary>
    public static byte[] Tiff()
    {
        using var image = new Image<Rgb24>(16, 16, new Rgb24(200, 10, 10));
        using var stream = new MemoryStream();
        image.Save(stream, new TiffEncoder());
        return stream.ToArray();
    }

    /// <summary>A valid PNG signature and IHDR claiming width x height, a tiny IDAT and IEND (a decompression-bomb header).</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // truecolour
        WriteChunk(stream, "IHDR", ihdr);
        WriteChunk(stream, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    /// <summary>
    /// A valid size x size Adam7-interlaced PNG of 1-bit palette indices (a two-colour checkerboard of
    /// <see cref="PaletteDark"/> and <see cref="PaletteLight"/>), built as PngSuite's s01i3p01..s04i3p01 are: ImageSharp
    /// 2.1.13 never returns from decoding those.
    /// </summary>
    public static byte[] InterlacedPalettePng(int size)
    {
        // Adam7 passes: x offset, y offset, x step, y step.
        (int X, int Y, int Dx, int Dy)[] passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
        using var raw = new MemoryStream();
        foreach ((int x0, int y0, int dx, int dy) in passes)
        {
            int columns = size > x0 ? (size - x0 + dx - 1) / dx : 0;
            int rows = size > y0 ? (size - y0 + dy - 1) / dy : 0;
            if (columns == 0 || rows == 0)
            {
                continue;
            }

            for (int r = 0; r < rows; r++)
            {
                var line = new byte[1 + ((columns + 7) / 8)]; // filter 0, then 1 bit per pixel, most significant first
                for (int c = 0; c < columns; c++)
                {
                    int x = x0 + (c * dx), y = y0 + (r * dy);
                    if (IsLightSquare(x, y))
                    {
                        line[1 + (c / 8)] |= (byte)(0x80 >> (c % 8));
                    }
                }

                raw.Write(line);
            }
        }

        return Png(size, size, bitDepth: 1, colourType: 3, interlaced: true, raw.ToArray(),
            palette: [PaletteDark.R, PaletteDark.G, PaletteDark.B, PaletteLight.R, PaletteLight.G, PaletteLight.B]);
    }

    public static Rgb24 PaletteDark => new(20, 40, 160);

    public static Rgb24 PaletteLight => new(250, 200, 30);

    public static bool IsLightSquare(int x, int y) => ((x + y) & 1) == 1;

    /// <summary>
    /// A valid 32x32 16-bit greyscale or RGB PNG whose compressed data is split into one-byte IDAT chunks, built as
    /// PngSuite's oi9n0g16 and oi9n2c16 are: ImageSharp 2.1.13 throws IndexOutOfRangeException on those. Sample value
    /// at (x, y): 2048 * x + 64 * y (every channel).
    /// </summary>
    public static byte[] SixteenBitPngInTinyChunks(bool colour)
    {
        const int size = 32;
        int channels = colour ? 3 : 1;
        using var raw = new MemoryStream();
        for (int y = 0; y < size; y++)
        {
            raw.WriteByte(0);
            for (int x = 0; x < size; x++)
            {
                for (int c = 0; c < channels; c++)
                {
                    ushort value = (ushort)((2048 * x) + (64 * y));
                    raw.WriteByte((byte)(value >> 8));
                    raw.WriteByte((byte)value);
                }
            }
        }

        return Png(size, size, bitDepth: 16, colourType: (byte)(colour ? 2 : 0), interlaced: false, raw.ToArray(), idatChunkSize: 1);
    }

    /// <summary>A flat-grey 8-bit greyscale PNG: a few kilobytes that decode to width x height x 4 bytes of RGBA.</summary>
    public static byte[] FlatGreyPng(int width, int height)
    {
        var raw = new byte[height * (width + 1)];
        for (int y = 0; y < height; y++)
        {
            raw.AsSpan((y * (width + 1)) + 1, width).Fill(128);
        }

        return Png(width, height, bitDepth: 8, colourType: 0, interlaced: false, raw);
    }

    private static byte[] Png(int width, int height, byte bitDepth, byte colourType, bool interlaced, byte[] raw, byte[]? palette = null, int idatChunkSize = int.MaxValue)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(raw);
        }

        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colourType;
        ihdr[12] = (byte)(interlaced ? 1 : 0);
        WriteChunk(stream, "IHDR", ihdr);
        if (palette is not null)
        {
            WriteChunk(stream, "PLTE", palette);
        }

        byte[] data = compressed.ToArray();
        for (int offset = 0; offset < data.Length; offset += idatChunkSize)
        {
            WriteChunk(stream, "IDAT", data[offset..Math.Min(data.Length, offset + idatChunkSize)]);
        }

        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(u32, data.Length);
        stream.Write(u32);
        byte[] typeAndData = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        stream.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(u32, Crc32(typeAndData));
        stream.Write(u32);
    }

    /// <summary>
    /// <paramref name="png"/> with a tEXt chunk of <paramref name="key"/> and <paramref name="textBytes"/> bytes of text
    /// (a prompt repeated) right after IHDR, where a decoder must read past it to reach the pixels; CRCs valid.
    /// </summary>
    public static byte[] PngWithTextChunk(byte[] png, string key, int textBytes)
    {
        byte[] prompt = "a photograph of a cat on a sofa, natural light, "u8.ToArray();
        byte[] data = new byte[key.Length + 1 + textBytes];
        System.Text.Encoding.Latin1.GetBytes(key, data);
        for (int i = key.Length + 1; i < data.Length; i += prompt.Length)
        {
            prompt.AsSpan(0, Math.Min(prompt.Length, data.Length - i)).CopyTo(data.AsSpan(i));
        }

        int afterHeader = 8 + 12 + BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(8));
        using var stream = new MemoryStream();
        stream.Write(png, 0, afterHeader);
        WriteChunk(stream, "tEXt", data);
        stream.Write(png, afterHeader, png.Length - afterHeader);
        return stream.ToArray();
    }

    private static uint[] CrcTable { get; } = [.. Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB88320 : c >> 1;
        }

        return c;
    })];

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }
}
