using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Tests.Decoding;

/// <summary>
/// Both decoders behind the same interface, on files whose pixels the test knows. Files that hang ImageSharp are
/// decoded here only with Skia; the sandbox tests run them through ImageSharp in a worker process.
/// </summary>
public sealed class DecoderTests
{
    private static ImagePreprocessor Preprocessor(DecoderKind decoder) => new(Options.Create(new PreprocessingOptions { Decoder = decoder }));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void SkiaDecodesTheInterlacedPalettePngsThatHangImageSharp(int size)
    {
        PreparedImage result = Preprocessor(DecoderKind.Skia).Decode(TestAssets.InterlacedPalettePng(size), new ImageFraming(size, size), out Image<Rgb24>? decoded);

        Assert.Null(result.Error);
        Assert.Equal(("PNG", size, size), (result.Format, result.Width, result.Height));
        using Image<Rgb24> image = decoded!;
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                Assert.Equal(TestAssets.IsLightSquare(x, y) ? TestAssets.PaletteLight : TestAssets.PaletteDark, image[x, y]);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SkiaDecodesSixteenBitPngsThatImageSharpRefuses(bool colour)
    {
        byte[] png = TestAssets.SixteenBitPngInTinyChunks(colour);

        PreparedImage skia = Preprocessor(DecoderKind.Skia).Decode(png, new ImageFraming(32, 32), out Image<Rgb24>? decoded);
        PreparedImage imageSharp = Preprocessor(DecoderKind.ImageSharp).Decode(png, new ImageFraming(32, 32), out Image<Rgb24>? refused);

        Assert.Null(skia.Error);
        using Image<Rgb24> image = decoded!;
        for (int y = 0; y < 32; y++)
        {
            for (int x = 0; x < 32; x++)
            {
                // 16-bit sample 2048x + 64y, reduced to 8 bits: 8x + y/4, give or take rounding.
                int expected = (8 * x) + (y / 4);
                Rgb24 p = image[x, y];
                Assert.InRange(p.R, expected - 1, expected + 1);
                Assert.Equal(p.R, p.G);
                Assert.Equal(p.R, p.B);
            }
        }

        // ImageSharp 2.1.13 throws IndexOutOfRangeException inside its PNG reader on these valid files; the
        // preprocessor turns that into a per-image error. If an upgrade fixes it, this line tells us to look again.
        Assert.Equal(ErrorCodes.DecodeFailed, imageSharp.Error?.Code);
        Assert.Null(refused);
    }

    [Theory]
    [InlineData(DecoderKind.Skia)]
    [InlineData(DecoderKind.ImageSharp)]
    [InlineData(DecoderKind.TurboJpeg)]
    public void BothDecodersTurnEachHostileFileIntoTheSameError(DecoderKind decoder)
    {
        ImagePreprocessor preprocessor = Preprocessor(decoder);
        foreach ((string name, byte[] bytes, string code) in TestAssets.BadFiles())
        {
            PreparedImage result = preprocessor.Prepare(bytes, TestAssets.RawPixels);
            Assert.True(result.Error?.Code == code, $"{decoder} on {name}: {result.Error?.Code ?? "decoded"}, expected {code}");
            Assert.Null(result.Tensor);
        }
    }

    [Theory]
    [InlineData(DecoderKind.Skia)]
    [InlineData(DecoderKind.ImageSharp)]
    [InlineData(DecoderKind.TurboJpeg)]
    public void EveryAllowedFormatDecodesToTheSameColours(DecoderKind decoder)
    {
        // A two-colour image in each lossless allowed format (and GIF's first frame only): both decoders must give
        // back exactly the colours written.
        using var image = new Image<Rgba32>(40, 30);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgba32> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    row[x] = x < 20 ? new Rgba32(200, 30, 30) : new Rgba32(30, 30, 200);
                }
            }
        });
        using Image<Rgba32> second = image.Clone();
        second.Mutate(x => x.Invert());
        using Image<Rgba32> animated = image.Clone();
        animated.Frames.AddFrame(second.Frames.RootFrame);

        ImagePreprocessor preprocessor = Preprocessor(decoder);
        foreach ((string format, byte[] file) in new[]
        {
            ("PNG", Encode(image, i => i.SaveAsPng)),
            ("BMP", Encode(image, i => s => i.Save(s, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 }))),
            ("WEBP", Encode(image, i => s => i.Save(s, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }))),
            ("GIF", Encode(animated, i => s => i.Save(s, new GifEncoder()))),
        })
        {
            PreparedImage result = preprocessor.Decode(file, new ImageFraming(40, 30), out Image<Rgb24>? decoded);
            Assert.True(result.Error is null, $"{decoder} on {format}: {result.Error?.Message}");
            using Image<Rgb24> pixels = decoded!;
            Assert.Equal(format, result.Format);
            Assert.Equal(new Rgb24(200, 30, 30), pixels[5, 15]);
            Assert.Equal(new Rgb24(30, 30, 200), pixels[35, 15]);
        }
    }

    private static byte[] Encode(Image<Rgba32> image, Func<Image<Rgba32>, Action<Stream>> save)
    {
        using var stream = new MemoryStream();
        save(image)(stream);
        return stream.ToArray();
    }
}
