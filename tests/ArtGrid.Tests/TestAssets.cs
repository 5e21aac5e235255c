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

    /// <summary>A real photograph (skimage's "chelsea", CC0), 451x300 JPEG.</summary>
    public static string Photo => Path.Combine(SamplesDir, "human", "photo-chelsea-cat.jpg");

    public static IReadOnlyList<string> SampleImages =>
        Directory.EnumerateFiles(SamplesDir, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    public static string ReferenceFile(string name) => Path.Combine(AppContext.BaseDirectory, "Reference", name);

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

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
