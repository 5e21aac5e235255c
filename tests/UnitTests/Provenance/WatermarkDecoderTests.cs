using ArtGrid.Imaging.Provenance;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Tests.Provenance;

/// <summary>
/// The streaming watermark decoder casts exactly the votes of the plane-by-plane reference: on real photographs, on
/// marked images after PNG and JPEG encoding, on odd sizes (edges that are not whole blocks) and on RGBA input.
/// </summary>
public sealed class WatermarkDecoderTests
{
    private static readonly int[] Lengths = [DwtDctWatermark.StableDiffusionV1.Length, DwtDctWatermark.Sdxl.Length, 7];

    public static TheoryData<string> Samples() => [.. TestAssets.SampleImages.Select(p => Path.GetFileName(p))];

    [Theory]
    [MemberData(nameof(Samples))]
    public void VotesMatchTheReferenceOnSamples(string name)
    {
        string path = TestAssets.SampleImages.Single(p => Path.GetFileName(p) == name);
        using Image<Rgba32> rgba = Image.Load<Rgba32>(path);
        using Image<Rgb24> rgb = Image.Load<Rgb24>(path);

        AssertSameVotes(rgba);
        AssertSameVotes(rgb);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void VotesMatchTheReferenceOnMarkedImages(bool sdxl, bool jpeg)
    {
        using Image<Rgb24> image = Image.Load<Rgb24>(TestAssets.Photo);
        WatermarkEmbedder.Embed(image, sdxl ? DwtDctWatermark.Sdxl : DwtDctWatermark.StableDiffusionV1);
        using var stream = new MemoryStream();
        if (jpeg)
        {
            image.Save(stream, new JpegEncoder { Quality = 90 });
        }
        else
        {
            image.SaveAsPng(stream);
        }

        using Image<Rgba32> decoded = Image.Load<Rgba32>(stream.ToArray());
        AssertSameVotes(decoded);
        Assert.Equal(0, DwtDctWatermark.BitErrorRate(DwtDctWatermark.Decode(decoded, Lengths)![sdxl ? 1 : 0], sdxl ? DwtDctWatermark.Sdxl : DwtDctWatermark.StableDiffusionV1));
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(9, 15)]
    [InlineData(37, 53)]
    [InlineData(203, 131)]
    [InlineData(448, 7)]
    public void VotesMatchTheReferenceOnOddSizes(int width, int height)
    {
        using Image<Rgba32> image = Image.Load<Rgba32>(TestAssets.Photo);
        image.Mutate(x => x.Crop(new Rectangle(3, 5, width, height)));
        var random = new Random(width * 1000 + height);
        image.ProcessPixelRows(access =>
        {
            for (int y = 0; y < access.Height; y++)
            {
                foreach (ref Rgba32 p in access.GetRowSpan(y))
                {
                    p.A = (byte)random.Next(256);
                }
            }
        });

        AssertSameVotes(image);
    }

    [Fact]
    public void NoiseVotesMatchTheReference()
    {
        using var image = new Image<Rgba32>(320, 240);
        var random = new Random(7);
        image.ProcessPixelRows(access =>
        {
            for (int y = 0; y < access.Height; y++)
            {
                foreach (ref Rgba32 p in access.GetRowSpan(y))
                {
                    p = new Rgba32((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), 255);
                }
            }
        });

        AssertSameVotes(image);
    }

    private static void AssertSameVotes<TPixel>(Image<TPixel> image)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        double[][]? expected = WatermarkReference.Decode(image, Lengths);
        double[][]? actual = DwtDctWatermark.Decode(image, Lengths);
        if (expected is null)
        {
            Assert.Null(actual);
            return;
        }

        Assert.NotNull(actual);
        for (int m = 0; m < Lengths.Length; m++)
        {
            Assert.Equal(expected[m], actual[m]);
        }
    }
}
