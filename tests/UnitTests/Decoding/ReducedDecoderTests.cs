using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using ArtGrid.Imaging.Provenance;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Tests.Decoding;

/// <summary>
/// Reduced-size JPEG decoding: Skia decodes a large JPEG at the smallest k/8 size whose both sides stay at least twice
/// the model's side, nothing else is reduced, the model input barely moves, and the watermark is looked for only in
/// full-size decodes.
/// </summary>
public sealed class ReducedDecoderTests
{
    private static readonly Configuration Contiguous = new Func<Configuration>(() =>
    {
        Configuration configuration = Configuration.Default.Clone();
        configuration.PreferContiguousImageBuffers = true;
        return configuration;
    })();

    [Theory]
    [InlineData(1792, 1120, 448, 896, 560)]
    [InlineData(2560, 1600, 448, 960, 600)]
    [InlineData(4608, 2592, 448, 1152, 648)]
    [InlineData(1024, 1024, 448, 512, 512)]
    [InlineData(800, 600, 448, 600, 450)]
    [InlineData(600, 440, 448, 600, 440)]
    public void SkiaPicksTheSmallestScaleThatKeepsBothSides(int width, int height, int minSide, int expectedWidth, int expectedHeight)
    {
        byte[] jpeg = Encode(width, height, png: false);

        using Image<Rgba32> reduced = new SkiaFrameDecoder(Contiguous).DecodeFirstFrame(jpeg, minSide);
        using Image<Rgba32> full = new SkiaFrameDecoder(Contiguous).DecodeFirstFrame(jpeg);

        Assert.Equal((expectedWidth, expectedHeight), (reduced.Width, reduced.Height));
        Assert.Equal((width, height), (full.Width, full.Height));
    }

    [Fact]
    public void PngsAndTheManagedDecoderStayFullSize()
    {
        byte[] png = Encode(1792, 1120, png: true);
        byte[] jpeg = Encode(1792, 1120, png: false);

        using Image<Rgba32> skiaPng = new SkiaFrameDecoder(Contiguous).DecodeFirstFrame(png, 448);
        using Image<Rgba32> imageSharpJpeg = new ImageSharpFrameDecoder(Contiguous).DecodeFirstFrame(jpeg, 448);

        Assert.Equal((1792, 1120), (skiaPng.Width, skiaPng.Height));
        Assert.Equal((1792, 1120), (imageSharpJpeg.Width, imageSharpJpeg.Height));
    }

    [Fact]
    public void TheModelInputBarelyMovesAndTheWatermarkIsOnlyReadAtFullSize()
    {
        using Image<Rgb24> image = Image.Load<Rgb24>(TestAssets.Photo);
        image.Mutate(x => x.Resize(1800, 1200));
        WatermarkEmbedder.Embed(image, DwtDctWatermark.Sdxl);
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 95 });
        byte[] jpeg = stream.ToArray();

        PreparedImage full = Preprocessor(reduced: false).Prepare(jpeg, TestAssets.RawPixels);
        PreparedImage reduced = Preprocessor(reduced: true).Prepare(jpeg, TestAssets.RawPixels);

        Assert.Equal(EvidenceSignals.SdWatermark, Assert.Single(full.Evidence!).Signal);
        Assert.Empty(reduced.Evidence!);
        Assert.Equal((1800, 1200), (reduced.Width, reduced.Height));
        double meanDifference = full.Tensor!.Zip(reduced.Tensor!, (a, b) => Math.Abs(a - b)).Average();
        Assert.InRange(meanDifference, 0, 2.0);
        Assert.True(meanDifference > 0, "the reduced decode should not be the full-size decode");
    }

    [Fact]
    public void SmallJpegsAreDecodedAtFullSizeByDefault()
    {
        byte[] jpeg = Encode(1800, 1200, png: false);
        var defaults = new PreprocessingOptions();

        PreparedImage byDefault = new ImagePreprocessor(Options.Create(new PreprocessingOptions())).Prepare(jpeg, TestAssets.RawPixels);
        PreparedImage off = Preprocessor(reduced: false).Prepare(jpeg, TestAssets.RawPixels);

        Assert.True(defaults.ReducedJpegDecode);
        Assert.True(1800 * 1200 <= defaults.ReducedDecodeMinPixels);
        Assert.Equal(off.Tensor, byDefault.Tensor);
    }

    private static ImagePreprocessor Preprocessor(bool reduced) =>
        new(Options.Create(new PreprocessingOptions { ReducedJpegDecode = reduced, ReducedDecodeMinPixels = 1_000_000 }));

    private static byte[] Encode(int width, int height, bool png)
    {
        using Image<Rgb24> image = Image.Load<Rgb24>(TestAssets.Photo);
        image.Mutate(x => x.Resize(width, height));
        using var stream = new MemoryStream();
        if (png)
        {
            image.SaveAsPng(stream);
        }
        else
        {
            image.Save(stream, new JpegEncoder { Quality = 90 });
        }

        return stream.ToArray();
    }
}
