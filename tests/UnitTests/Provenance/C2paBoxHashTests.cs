using ArtGrid.Imaging.Provenance;

namespace ArtGrid.Tests.Provenance;

/// <summary>
/// C2PA box hashes (c2pa.hash.boxes): the box map of real files, named and bounded as c2pa-rs names them, and the Bing
/// Image Creator JPEG whose claim binds its file that way, as signed and with a byte of its image changed.
/// </summary>
public sealed class C2paBoxHashTests
{
    private static readonly string PublicDir = Path.Combine(TestAssets.ProvenanceSamplesDir, "public");
    private static readonly string Bing = Path.Combine(PublicDir, "c2pa-extension-validator", "bing_creator_cloud_surfing_puppy.jpg");

    [Fact]
    public void AJpegIsMappedSegmentBySegmentFromSoiToEoi()
    {
        // sd-parsers' 160-byte JPEG, its segments read by hand: JFIF APP0, one DQT, SOF0, two DHTs, a scan, EOI.
        List<C2paBox> map = Assert.IsType<List<C2paBox>>(C2paBoxMap.Map(File.ReadAllBytes(Path.Combine(PublicDir, "sd-parsers", "empty_image.jpg"))));

        Assert.Equal(
            [new("SOI", 0, 2), new("APP0", 2, 18), new("DQT", 20, 69), new("SOF0", 89, 13), new("DHT", 102, 22), new("DHT", 124, 22), new("SOS", 146, 12), new("EOI", 158, 2)],
            map);
    }

    [Fact]
    public void APngIsMappedChunkByChunkWithItsSignatureFirst()
    {
        List<C2paBox> map = Assert.IsType<List<C2paBox>>(C2paBoxMap.Map(File.ReadAllBytes(Path.Combine(PublicDir, "sd-parsers", "empty_image.png"))));

        Assert.Equal(
            [new("PNGh", 0, 8), new("IHDR", 8, 25), new("cHRM", 33, 44), new("tRNS", 77, 14), new("bKGD", 91, 14), new("tIME", 105, 19),
             new("IDAT", 124, 22), new("tEXt", 146, 49), new("tEXt", 195, 49), new("tEXt", 244, 52), new("IEND", 296, 12)],
            map);
    }

    [Fact]
    public void TheC2paStoreIsOneBoxWhetherInAnApp11SegmentOrACaBXChunk()
    {
        // Bing's store: one APP11 segment before everything else (13,036 bytes); the ChatGPT PNG's: a caBX chunk.
        List<C2paBox> jpeg = Assert.IsType<List<C2paBox>>(C2paBoxMap.Map(File.ReadAllBytes(Bing)));
        Assert.Equal(new C2paBox(C2paBoxMap.C2paBoxName, 2, 13036), jpeg[1]);
        Assert.Equal(
            ["SOI", "C2PA", "APP0", "APP1", "DQT", "DQT", "SOF0", "DHT", "DHT", "DHT", "DHT", "SOS", "EOI"],
            jpeg.Select(b => b.Name));
        Assert.Equal(new C2paBox("EOI", 292008, 2), jpeg[^1]);

        // c2pa-rs's CA.jpg: its store spans two APP11 segments, one box covering both.
        byte[] ca = File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-rs", "CA.jpg"));
        C2paBox store = Assert.Single(Assert.IsType<List<C2paBox>>(C2paBoxMap.Map(ca)), b => b.Name == C2paBoxMap.C2paBoxName);
        Assert.Equal(2, CountApp11(ca[(int)store.Start..(int)store.End]));

        byte[] png = File.ReadAllBytes(Path.Combine(TestAssets.ProvenanceSamplesDir, "prov_0035.png"));
        List<C2paBox> chunks = Assert.IsType<List<C2paBox>>(C2paBoxMap.Map(png));
        C2paBox caBX = Assert.Single(chunks, b => b.Name == C2paBoxMap.C2paBoxName);
        Assert.True(png.AsSpan((int)caBX.Start + 4, 4).SequenceEqual("caBX"u8));
        Assert.Equal(png.Length, chunks[^1].End);

        // Boxes follow each other with nothing between them, from the first byte to the last.
        Assert.All(new[] { jpeg, chunks }, map => Assert.All(map.Zip(map.Skip(1)), pair => Assert.Equal(pair.First.End, pair.Second.Start)));
    }

    [Fact]
    public void OtherContainersHaveNoBoxMap()
    {
        Assert.Null(C2paBoxMap.Map(File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-extension-validator", "cards_trusted.webp"))));
        Assert.Null(C2paBoxMap.Map(File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-ts", "c2pa.gif"))));
    }

    [Fact]
    public void BingsBoxHashMatchesItsFile()
    {
        Evidence claim = C2paVerificationTests.Claim(File.ReadAllBytes(Bing));

        Assert.Equal(EvidenceSignals.C2pa, claim.Signal);
        Assert.Equal(C2paVerificationStates.TrustListNotConfigured, C2paVerificationTests.State(claim));
    }

    [Fact]
    public void AByteOfBingsImageDataChangedIsAHashMismatch()
    {
        byte[] file = File.ReadAllBytes(Bing);
        C2paBox scan = Assert.Single(Assert.IsType<List<C2paBox>>(C2paBoxMap.Map(file)), b => b.Name == "SOS");
        // The middle of the entropy-coded data: a byte that is neither 0xFF nor next to one stays a byte of the scan.
        int at = (int)(scan.Start + (scan.Length / 2));
        while (file[at] == 0xFF || file[at - 1] == 0xFF || file[at] == 0xFE)
        {
            at++;
        }

        file[at] ^= 0x01;

        Evidence claim = C2paVerificationTests.Claim(file);

        Assert.Equal(EvidenceSignals.C2paBroken, claim.Signal);
        Assert.StartsWith(C2paVerificationStates.HashMismatch + " (in boxes ", C2paVerificationTests.State(claim), StringComparison.Ordinal);
        Assert.Equal((EvidenceStrength.Weak, EvidenceDirection.Unknown), (claim.Strength, claim.Indicates));
    }

    [Fact]
    public void ASegmentAddedAfterSigningIsAHashMismatch()
    {
        // A comment segment slipped in after the scan, before EOI: the boxes the hash lists are no longer the file's.
        byte[] file = File.ReadAllBytes(Bing);
        byte[] comment = [0xFF, 0xFE, 0x00, 0x06, (byte)'e', (byte)'d', (byte)'i', (byte)'t'];
        byte[] edited = [.. file[..^2], .. comment, .. file[^2..]];

        Evidence claim = C2paVerificationTests.Claim(edited);

        Assert.Equal(EvidenceSignals.C2paBroken, claim.Signal);
        Assert.StartsWith(C2paVerificationStates.HashMismatch, C2paVerificationTests.State(claim), StringComparison.Ordinal);
    }

    [Fact]
    public void ABoxHashInAGifIsUnverifiable_NamingTheContainer()
    {
        // Bing's store moved into a GIF the way c2pa-rs embeds one (a C2PA_GIF application extension): read, its
        // signature and assertions check, and its box hash, over JPEG segments, is not checked in a GIF.
        byte[] store = Assert.IsType<byte[]>(MetadataBlocks.Scan(File.ReadAllBytes(Bing), ProvenanceLimits.Default).Jumbf);
        byte[] gif = PublicFixtureTests.WithGifApplicationExtension(File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-ts", "c2pa.gif")), "C2PA_GIF"u8, [1, 0, 0], store);

        Evidence claim = C2paVerificationTests.Claim(gif);

        Assert.Equal(C2paVerificationStates.Unverifiable + " (c2pa.hash.boxes not checked in GIF)", C2paVerificationTests.State(claim));
        Assert.Equal((EvidenceSignals.C2pa, EvidenceStrength.Moderate), (claim.Signal, claim.Strength));
    }

    private static int CountApp11(ReadOnlySpan<byte> segments)
    {
        int count = 0;
        for (int at = 0; at + 4 <= segments.Length; count++)
        {
            Assert.Equal((0xFF, 0xEB), (segments[at], segments[at + 1]));
            at += 2 + ((segments[at + 2] << 8) | segments[at + 3]);
        }

        return count;
    }
}
