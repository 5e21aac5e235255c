using System.IO.Compression;
using System.Text;
using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging.Provenance;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.Provenance;

/// <summary>NovelAI's alpha-channel metadata, written here bit by bit into a real picture, read back from the PNG.</summary>
[Collection(ClusterCollection.Name)]
public sealed class StealthMetadataTests(ClusterFixture fixture)
{
    private const string Settings = """{"Software":"NovelAI","Comment":"{\"prompt\": \"a cat\", \"steps\": 28, \"sampler\": \"k_euler\"}"}""";

    [Fact]
    public void CompressedSettingsInTheAlphaChannelAreNovelAiEvidence()
    {
        using Image<Rgba32> image = Image.Load<Rgba32>(Png(Stealth("stealth_pngcomp", Gzip(Settings))));
        Evidence evidence = Assert.IsType<Evidence>(StealthMetadata.Read(image));
        Assert.Equal((EvidenceSignals.NovelAi, EvidenceStrength.Strong), (evidence.Signal, evidence.Strength));
    }

    [Fact]
    public void PlainAlphaAndDamagedHeadersAreToldApart()
    {
        using Image<Rgba32> opaque = Image.Load<Rgba32>(TestAssets.Photo);
        Assert.Null(StealthMetadata.Read(opaque));

        // The magic is there but the declared length is absurd: unreadable, and nothing read past it.
        using Image<Rgba32> damaged = Image.Load<Rgba32>(Png(Stealth("stealth_pnginfo", Encoding.UTF8.GetBytes("x"), declaredBits: uint.MaxValue)));
        Assert.Equal(EvidenceSignals.Unreadable, StealthMetadata.Read(damaged)?.Signal);
    }

    [Fact]
    public async Task TheGrainsReportItAndDecideAi()
    {
        byte[] png = Png(Stealth("stealth_pngcomp", Gzip(Settings)));
        string jobId = $"stealth-{Guid.NewGuid():N}";
        JobVerdict verdict = await fixture.Grains.GetGrain<IJobGrain>(jobId).ScoreAsync(new ScoreJob(jobId, [ImageRef.FromBytes("nai.png", png)], JobMetadata.None));

        ImageScore image = Assert.Single(verdict.Images);
        Assert.Contains(image.Evidence!, e => e.Signal == EvidenceSignals.NovelAi);
        Assert.Equal(Labels.Ai, image.Label);
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

    /// <summary>A real photograph with magic, bit count and payload in its alpha LSBs, column by column.</summary>
    private static Image<Rgba32> Stealth(string magic, byte[] payload, uint? declaredBits = null)
    {
        Image<Rgba32> image = Image.Load<Rgba32>(TestAssets.Photo);
        var bits = new List<int>();
        void Add(byte[] bytes)
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
        for (int i = 0; i < bits.Count; i++)
        {
            int x = i / image.Height, y = i % image.Height;
            Rgba32 pixel = image[x, y];
            pixel.A = (byte)(254 | bits[i]);
            image[x, y] = pixel;
        }

        return image;
    }

    private static byte[] Png(Image<Rgba32> image)
    {
        using (image)
        {
            using var stream = new MemoryStream();
            image.SaveAsPng(stream);
            return stream.ToArray();
        }
    }
}
