using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging.Provenance;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.Provenance;

/// <summary>
/// The DWT-DCT invisible watermark, embedded here the way the reference encoder does it, in real photographs, and
/// read back after PNG and JPEG encoding; and never found where nobody put it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class WatermarkTests(ClusterFixture fixture)
{
    public static TheoryData<string, bool> Marks() => new()
    {
        { "sdxl", false },
        { "sdxl", true },
        { "sd1", false },
        { "sd1", true },
    };

    [Theory]
    [MemberData(nameof(Marks))]
    public void AnEmbeddedMarkIsFoundAfterEncoding(string mark, bool jpeg)
    {
        bool[] message = mark == "sdxl" ? DwtDctWatermark.Sdxl : DwtDctWatermark.StableDiffusionV1;
        using Image<Rgb24> decoded = Image.Load<Rgb24>(Watermarked(TestAssets.SampleImages[0], message, jpeg));

        Evidence evidence = Assert.IsType<Evidence>(DwtDctWatermark.Detect(decoded));

        Assert.Equal(EvidenceSignals.SdWatermark, evidence.Signal);
        Assert.Equal(EvidenceStrength.Strong, evidence.Strength);
        Assert.Contains(mark == "sdxl" ? "SDXL" : "StableDiffusionV1", evidence.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void UnmarkedImagesShowNoWatermark()
    {
        foreach (string sample in TestAssets.SampleImages)
        {
            using Image<Rgb24> image = Image.Load<Rgb24>(sample);
            double[][] votes = DwtDctWatermark.Decode(image, DwtDctWatermark.StableDiffusionV1.Length, DwtDctWatermark.Sdxl.Length)!;
            Assert.Null(DwtDctWatermark.Detect(image));
            Assert.InRange(DwtDctWatermark.BitErrorRate(votes[1], DwtDctWatermark.Sdxl), 0.25, 1.0);
        }
    }

    [Fact]
    public async Task AWatermarkedImageIsAiThroughTheGrainsAndFromTheCache()
    {
        byte[] bytes = Watermarked(TestAssets.Photo, DwtDctWatermark.Sdxl, jpeg: false);
        IJobGrain first = fixture.Grains.GetGrain<IJobGrain>($"watermark-{Guid.NewGuid():N}");
        var job = new ScoreJob(first.GetPrimaryKeyString(), [ImageRef.FromBytes("marked.png", bytes)], JobMetadata.None);

        ImageScore scored = Assert.Single((await first.ScoreAsync(job)).Images);
        Assert.Equal(Labels.Ai, scored.Label);
        Assert.Equal(EvidenceSignals.SdWatermark, Assert.Single(scored.Evidence!).Signal);

        IJobGrain second = fixture.Grains.GetGrain<IJobGrain>($"watermark-{Guid.NewGuid():N}");
        ImageScore cached = Assert.Single((await second.ScoreAsync(job with { JobId = second.GetPrimaryKeyString() })).Images);
        Assert.True(cached.Cached);
        Assert.Equal(scored.Evidence, cached.Evidence);
        Assert.Equal(Labels.Ai, cached.Label);
    }

    private static byte[] Watermarked(string path, bool[] message, bool jpeg)
    {
        using Image<Rgb24> image = Image.Load<Rgb24>(path);
        WatermarkEmbedder.Embed(image, message);
        using var stream = new MemoryStream();
        if (jpeg)
        {
            image.Save(stream, new JpegEncoder { Quality = 90 });
        }
        else
        {
            image.SaveAsPng(stream);
        }

        return stream.ToArray();
    }
}
