using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Tests.Decoding;

/// <summary>
/// The TurboJpeg decoder (the system's libturbojpeg for JPEG) against Skia, the decoder before it, on real files: the same
/// pixels at full and reduced size, the same orientation, and the same answer, error code and message on broken files.
/// Needs Debian's libturbojpeg0 (test.sh installs it).
/// </summary>
public sealed class TurboJpegDecoderTests
{
    private static readonly Configuration Contiguous = ImagePreprocessor.CreateConfiguration(new PreprocessingOptions());

    private static TurboJpegFrameDecoder Turbo() =>
        TurboJpegFrameDecoder.TryCreate(Contiguous, out string? problem) ?? throw new InvalidOperationException($"TurboJpeg is not available: {problem}");

    private static ImagePreprocessor Preprocessor(DecoderKind decoder) => new(Options.Create(new PreprocessingOptions { Decoder = decoder }));

    /// <summary>The samples, the provenance samples' JPEGs, and JPEGs of each sampling, grey and quality the encoder offers.</summary>
    public static TheoryData<string> Jpegs()
    {
        var data = new TheoryData<string>();
        foreach (string file in TestAssets.SampleImages.Concat(Directory.EnumerateFiles(TestAssets.ProvenanceSamplesDir, "*.jp*g").Order(StringComparer.Ordinal)))
        {
            data.Add(Path.GetRelativePath(TestAssets.RepositoryRoot, file));
        }

        foreach (JpegColorType colour in new[] { JpegColorType.YCbCrRatio420, JpegColorType.YCbCrRatio444, JpegColorType.Luminance, JpegColorType.Rgb })
        {
            data.Add($"encoded:{colour}");
        }

        return data;
    }

    [Fact]
    public void TheDefaultDecoderIsTurboJpeg_AndItsLibraryIsInstalled()
    {
        ImagePreprocessor preprocessor = new(Options.Create(new PreprocessingOptions()));

        Assert.True(preprocessor.DecoderProblem is null, preprocessor.DecoderProblem);
        Assert.Equal(DecoderKind.TurboJpeg, preprocessor.Decoder);
    }

    [Fact]
    public void AMissingOrWrongLibraryIsRefusedWithWhatToInstall()
    {
        (TurboJpegLibrary? missing, string? notFound) = TurboJpegLibrary.Open("libturbojpeg-not-installed.so.0");
        (TurboJpegLibrary? wrong, string? notTurbo) = TurboJpegLibrary.Open("libc.so.6"); // a library, but not TurboJPEG

        Assert.Null(missing);
        Assert.Contains("apt-get install -y libturbojpeg0", notFound);
        Assert.Null(wrong);
        Assert.Contains("lacks a TurboJPEG 2 function", notTurbo);
    }

    [Theory]
    [MemberData(nameof(Jpegs))]
    public void TurboJpegDecodesEachJpegItselfToSkiasPixels(string name)
    {
        byte[] jpeg = Load(name);
        using Image<Rgba32> skia = new SkiaFrameDecoder(Contiguous).DecodeFirstFrame(jpeg);
        using Image<Rgba32>? turbo = Turbo().TryDecodeJpeg(jpeg, 0);

        Assert.NotNull(turbo); // decoded by TurboJPEG, not handed to Skia
        Assert.Equal((skia.Width, skia.Height), (turbo.Width, turbo.Height));
        Assert.Equal(Turbo().ReadSize(jpeg), (skia.Width, skia.Height));
        AssertSamePixels(skia, turbo, name);
    }

    [Theory]
    [InlineData(1792, 1120, 448)]
    [InlineData(2560, 1600, 448)]
    [InlineData(4608, 2592, 448)]
    [InlineData(1024, 1024, 448)]
    [InlineData(800, 600, 448)]
    [InlineData(601, 441, 448)]
    [InlineData(1023, 777, 300)]
    public void ReducedDecodesHaveSkiasSizeAndPixels(int width, int height, int minSide)
    {
        byte[] jpeg = Encode(width, height, JpegColorType.YCbCrRatio420);

        using Image<Rgba32> skia = new SkiaFrameDecoder(Contiguous).DecodeFirstFrame(jpeg, minSide);
        using Image<Rgba32> turbo = Turbo().DecodeFirstFrame(jpeg, minSide);

        Assert.Equal((skia.Width, skia.Height), (turbo.Width, turbo.Height));
        Assert.Equal((skia.Width, skia.Height), TurboJpegFrameDecoder.ReducedSize(width, height, minSide));
        AssertSamePixels(skia, turbo, $"{width}x{height} reduced for {minSide}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void EachExifOrientationIsReadAsSkiaReadsIt_AndTheScoredImageIsTheSame(ushort orientation)
    {
        using Image<Rgb24> image = Image.Load<Rgb24>(TestAssets.Photo);
        image.Metadata.ExifProfile = new ExifProfile();
        image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
        image.Metadata.ExifProfile.SetValue(ExifTag.Software, "ArtGrid tests");
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90 });
        byte[] jpeg = stream.ToArray();

        using Image<Rgba32> skia = new SkiaFrameDecoder(Contiguous).DecodeFirstFrame(jpeg);
        using Image<Rgba32> turbo = Turbo().DecodeFirstFrame(jpeg);
        PreparedImage skiaPrepared = Preprocessor(DecoderKind.Skia).Prepare(jpeg, TestAssets.RawPixels, keepOriented: true);
        PreparedImage turboPrepared = Preprocessor(DecoderKind.TurboJpeg).Prepare(jpeg, TestAssets.RawPixels, keepOriented: true);

        Assert.True(skiaPrepared.Error is null, skiaPrepared.Error?.Message);
        Assert.True(turboPrepared.Error is null, turboPrepared.Error?.Message);
        ushort Read(Image<Rgba32> decoded) => decoded.Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value ?? 1;
        Assert.Equal(orientation, Read(skia));
        Assert.Equal(orientation, Read(turbo));
        Assert.Equal(orientation, JpegOrientation.Read(jpeg));
        Assert.Equal((skiaPrepared.Oriented!.Width, skiaPrepared.Oriented.Height), (turboPrepared.Oriented!.Width, turboPrepared.Oriented.Height));
        Assert.Equal(skiaPrepared.Oriented.Rgb, turboPrepared.Oriented.Rgb);
        Assert.Equal(skiaPrepared.Tensor, turboPrepared.Tensor);
    }

    [Fact]
    public void BrokenExifNeverThrows_AndReadsAsStored()
    {
        byte[] jpeg = File.ReadAllBytes(TestAssets.Photo);
        byte[] app1 = [0xFF, 0xE1, 0x00, 0x10, .. "Exif\0\0"u8, .. "MM\0\x2A"u8, 0x7F, 0xFF, 0xFF, 0xF0];
        foreach (byte[] bytes in new[]
        {
            [0xFF, 0xD8, .. app1, .. jpeg[2..]], // IFD offset far past the segment
            [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, .. "Exif\0\0"u8], // segment with no TIFF header
            [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, .. "Exif\0\0"u8], // length past the end of the file
            jpeg[..2],
        })
        {
            Assert.Equal(1, JpegOrientation.Read(bytes));
        }
    }

    [Fact]
    public void CorruptAndTruncatedJpegsGetSkiasAnswer_CodeMessageAndPixels()
    {
        ImagePreprocessor skia = Preprocessor(DecoderKind.Skia), turbo = Preprocessor(DecoderKind.TurboJpeg);
        int refusedBoth = 0;
        foreach ((string name, byte[] bytes) in BrokenJpegs())
        {
            PreparedImage before = skia.Prepare(bytes, TestAssets.RawPixels);
            PreparedImage after = turbo.Prepare(bytes, TestAssets.RawPixels);

            Assert.True(before.Error?.Code == after.Error?.Code, $"{name}: Skia {before.Error?.Code ?? "decoded"}, TurboJpeg {after.Error?.Code ?? "decoded"} ({after.Error?.Message})");
            Assert.Equal(before.Error?.Message, after.Error?.Message);
            Assert.Equal(before.Tensor, after.Tensor);
            refusedBoth += after.Error is null ? 0 : 1;
        }

        // Not a set of files that both decoders happen to take: most of them are refused.
        Assert.True(refusedBoth >= 4, $"only {refusedBoth} broken files were refused");
    }

    [Fact]
    public void OtherFormatsGoThroughSkia()
    {
        using var image = new Image<Rgba32>(40, 30, new Rgba32(200, 30, 30));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);

        PreparedImage result = Preprocessor(DecoderKind.TurboJpeg).Decode(stream.ToArray(), new ImageFraming(40, 30), out Image<Rgb24>? decoded);

        using Image<Rgb24> pixels = decoded!;
        Assert.Null(result.Error);
        Assert.Equal(("PNG", 40, 30), (result.Format, result.Width, result.Height));
        Assert.Equal(new Rgb24(200, 30, 30), pixels[20, 15]);
    }

    [Fact]
    public void ABufferKeptFromTheLastImageIsOverwrittenWhole()
    {
        // The second decode reuses the first one's buffer (the larger image's): none of its pixels may show through.
        byte[] large = Encode(900, 700, JpegColorType.YCbCrRatio420);
        byte[] small = File.ReadAllBytes(TestAssets.Photo);
        TurboJpegFrameDecoder turbo = Turbo();
        turbo.DecodeFirstFrame(large).Dispose();

        using Image<Rgba32> reused = turbo.DecodeFirstFrame(small);
        using Image<Rgba32> fresh = new SkiaFrameDecoder(Contiguous).DecodeFirstFrame(small);

        AssertSamePixels(fresh, reused, "second image");
    }

    /// <summary>Broken in the ways uploads are: cut inside the scan (with and without an end marker), bytes overwritten in the scan, a bad header.</summary>
    private static IEnumerable<(string Name, byte[] Bytes)> BrokenJpegs()
    {
        byte[] jpeg = File.ReadAllBytes(TestAssets.Photo);
        int scan = ScanStart(jpeg);
        var random = new Random(19);
        yield return ("cut at half", jpeg[..(jpeg.Length / 2)]);
        yield return ("cut at half, end marker added", [.. jpeg[..(jpeg.Length / 2)], 0xFF, 0xD9]);
        yield return ("cut just after the scan header, end marker added", [.. jpeg[..(scan + 16)], 0xFF, 0xD9]);
        foreach (int at in new[] { scan + 100, (scan + jpeg.Length) / 2, jpeg.Length - 300 })
        {
            byte[] overwritten = (byte[])jpeg.Clone();
            random.NextBytes(overwritten.AsSpan(at, 64));
            yield return ($"64 random bytes at {at}", overwritten);
        }

        byte[] markers = (byte[])jpeg.Clone();
        for (int i = scan + 200; i < scan + 400; i += 2)
        {
            (markers[i], markers[i + 1]) = (0xFF, 0xC4); // a DHT marker inside entropy-coded data
        }

        yield return ("markers inside the scan", markers);
        int sof = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        byte[] noHeight = (byte[])jpeg.Clone();
        (noHeight[sof + 5], noHeight[sof + 6]) = (0, 0);
        yield return ("height 0 in the frame header", noHeight);
        byte[] badTable = (byte[])jpeg.Clone();
        badTable[jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDB]) + 4] = 0x0F; // quantisation table 15
        yield return ("quantisation table out of range", badTable);
        byte[] components = (byte[])jpeg.Clone();
        components[sof + 9] = 7; // no such number of components
        yield return ("seven components", components);
    }

    private static int ScanStart(byte[] jpeg)
    {
        int sos = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        return sos + 2 + ((jpeg[sos + 2] << 8) | jpeg[sos + 3]);
    }

    private static void AssertSamePixels(Image<Rgba32> expected, Image<Rgba32> actual, string name)
    {
        Assert.True(expected.DangerousTryGetSinglePixelMemory(out Memory<Rgba32> a));
        Assert.True(actual.DangerousTryGetSinglePixelMemory(out Memory<Rgba32> b));
        int differing = 0;
        for (int i = 0; i < a.Length; i++)
        {
            differing += a.Span[i] == b.Span[i] ? 0 : 1;
        }

        Assert.True(differing == 0, $"{name}: {differing} of {a.Length} pixels differ from Skia's");
    }

    private static byte[] Load(string name) => name.StartsWith("encoded:", StringComparison.Ordinal)
        ? Encode(640, 427, Enum.Parse<JpegColorType>(name["encoded:".Length..]))
        : File.ReadAllBytes(Path.Combine(TestAssets.RepositoryRoot, name));

    private static byte[] Encode(int width, int height, JpegColorType colour)
    {
        using Image<Rgb24> image = Image.Load<Rgb24>(TestAssets.Photo);
        image.Mutate(x => x.Resize(width, height));
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90, ColorType = colour });
        return stream.ToArray();
    }
}
