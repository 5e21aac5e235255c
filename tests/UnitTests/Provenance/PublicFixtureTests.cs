using System.Security.Cryptography;
using ArtGrid.Imaging.Provenance;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.Provenance;

/// <summary>
/// Public test files that no one here wrote (c2pa-rs, sd-parsers, Microsoft's c2pa-extension-validator, c2pa-ts,
/// sd-metadata): per file, the evidence ArtGrid reports, exactly as tests/assets/provenance/public/expected.csv gives
/// it. The small ones are kept here; the large ones are downloaded by fetch.sh, and their test skips until then.
/// </summary>
public sealed class PublicFixtureTests
{
    private static readonly string PublicDir = Path.Combine(TestAssets.ProvenanceSamplesDir, "public");
    private static readonly string FetchedDir = Path.Combine(PublicDir, "fetched");

    public static TheoryData<string> Vendored() => Files("vendored");

    public static TheoryData<string> Fetched() => Files("fetched");

    [Theory]
    [MemberData(nameof(Vendored))]
    public void AVendoredFileShowsExactlyItsExpectedEvidence(string file) => Check(Path.Combine(PublicDir, file), Fixtures[file]);

    [FetchedFixturesTheory]
    [MemberData(nameof(Fetched))]
    public void AFetchedFileShowsExactlyItsExpectedEvidence(string file) => Check(Path.Combine(FetchedDir, file), Fixtures[file]);

    [Fact]
    public void TheFolderHoldsExactlyTheVendoredFilesTheListNames()
    {
        string[] kept = [.. Directory.EnumerateFiles(PublicDir, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(FetchedDir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(PublicDir, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => !Path.GetFileName(f).StartsWith("LICENSE", StringComparison.Ordinal) && f is not ("README.md" or "expected.csv" or "fetch.sh" or ".gitignore" or "c2pa-rs/test_cert_root_bundle.pem"))
            .Order(StringComparer.Ordinal)];
        Assert.Equal(Fixtures.Values.Where(f => f.Source == "vendored").Select(f => f.File).Order(StringComparer.Ordinal), kept);
        Assert.All(Fixtures.Values.Where(f => f.Source == "fetched"), f => Assert.DoesNotContain(f.File, kept));
    }

    /// <summary>
    /// No public GIF carries a manifest (c2pa-rs signs its GIF fixture only while its tests run), so this one is built
    /// as c2pa-rs writes it: a real GIF, and right after its colour table an application extension "C2PA_GIF" holding,
    /// in sub-blocks, the real store of the DALL·E image.
    /// </summary>
    [Fact]
    public void AC2paStoreInAGifApplicationExtensionIsReadAsInTheWebPItCameFrom()
    {
        byte[] webp = File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-extension-validator", "DALL-E_cloud_surfing_puppy.webp"));
        byte[] store = Assert.IsType<byte[]>(MetadataBlocks.Scan(webp, ProvenanceLimits.Default).Jumbf);
        byte[] plain = File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-ts", "c2pa.gif"));
        byte[] gif = WithGifApplicationExtension(plain, "C2PA_GIF"u8, [1, 0, 0], store);

        Assert.Equal(store, MetadataBlocks.Scan(gif, ProvenanceLimits.Default).Jumbf);

        // The same claim, read the same way; but the store's data hash is the WebP's bytes, not these: moved into
        // another file, a manifest no longer binds it, and says so.
        Evidence fromWebP = Assert.Single(ProvenanceReader.Read(webp));
        Evidence fromGif = Assert.Single(ProvenanceReader.Read(gif));
        Assert.Equal(C2paVerificationStates.TrustListNotConfigured, C2paVerificationTests.State(fromWebP));
        Assert.StartsWith(C2paVerificationStates.HashMismatch, C2paVerificationTests.State(fromGif), StringComparison.Ordinal);
        Assert.Equal(EvidenceSignals.C2paBroken, fromGif.Signal);
        Assert.Equal(Claim(fromWebP), Claim(fromGif));
        Assert.Contains("from an ingredient", fromGif.Detail, StringComparison.Ordinal);
        using (Image<Rgba32> decoded = Image.Load<Rgba32>(gif))
        {
            Assert.Equal((29, 20), (decoded.Width, decoded.Height)); // still a GIF any decoder reads
        }

        // Cut inside the store's sub-blocks: unreadable, and nothing claimed.
        byte[] truncated = gif[..(plain.Length + (store.Length / 2))];
        IReadOnlyList<Evidence> evidence = ProvenanceReader.Read(truncated);
        Assert.Contains(evidence, e => e.Signal == EvidenceSignals.Unreadable);
        Assert.DoesNotContain(evidence, e => e.Indicates == EvidenceDirection.Ai);
    }

    [Fact]
    public void XmpInAGifIsReadWhetherRawOrInSubBlocks()
    {
        const string Xmp = """
            <?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            <rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
              Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>
            </rdf:RDF></x:xmpmeta><?xpacket end="w"?>
            """;
        byte[] plain = File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-ts", "c2pa.gif"));
        byte[] trailer = [1, .. Enumerable.Range(0, 256).Select(i => (byte)(255 - i))];
        byte[] packet = System.Text.Encoding.UTF8.GetBytes(Xmp);

        // c2pa-rs: packet and magic trailer split into sub-blocks. Adobe: the packet raw, the trailer making it parse.
        byte[] split = WithGifApplicationExtension(plain, "XMP Data"u8, "XMP"u8.ToArray(), [.. packet, .. trailer]);
        byte[] raw = Insert(plain, [0x21, 0xFF, 11, .. "XMP DataXMP"u8, .. packet, .. trailer, 0]);

        foreach (byte[] gif in new[] { split, raw })
        {
            Assert.Equal(Xmp, Assert.Single(MetadataBlocks.Scan(gif, ProvenanceLimits.Default).Xmp));
            Assert.Equal(EvidenceSignals.Iptc("trainedAlgorithmicMedia"), Assert.Single(ProvenanceReader.Read(gif)).Signal);
        }
    }

    // What the decode worker reports: the metadata's evidence, then the pixels' (stealth metadata) where the metadata
    // has no evidence of the same signal.
    private static void Check(string path, Fixture fixture)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(fixture.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        List<Evidence> evidence = [.. ProvenanceReader.Read(bytes)];
        using (Image<Rgba32> image = Image.Load<Rgba32>(bytes))
        {
            if (StealthMetadata.Read(image) is { } pixels && !evidence.Any(e => e.Signal == pixels.Signal))
            {
                evidence.Add(pixels);
            }
        }

        string report = string.Join("\n", evidence);
        Assert.Equal(fixture.Evidence, evidence.Select(e => $"{e.Signal}/{e.Strength}/{e.Indicates}").Order(StringComparer.Ordinal));
        Assert.All(fixture.Detail, part => Assert.True(evidence.Any(e => e.Detail.Contains(part, StringComparison.Ordinal)), $"no detail says '{part}':\n{report}"));
        string[] states = [.. evidence.Where(e => e.Detail.Contains("(verification: ", StringComparison.Ordinal)).Select(C2paVerificationTests.State)];
        Assert.Equal(fixture.Verification.Length == 0 ? [] : [fixture.Verification], states);

        // With the trust list that ships with ArtGrid (the default): an untrusted signer's reason (its name and what the
        // chain lacked) is left out.
        string[] trusted = [.. ProvenanceReader.Read(bytes, trust: C2paVerificationTests.ShippedTrust)
            .Where(e => e.Detail.Contains("(verification: ", StringComparison.Ordinal))
            .Select(C2paVerificationTests.State)
            .Select(state => state.StartsWith(C2paVerificationStates.UntrustedSigner, StringComparison.Ordinal) ? C2paVerificationStates.UntrustedSigner : state)];
        Assert.Equal(fixture.Trusted.Length == 0 ? [] : [fixture.Trusted], trusted);
    }

    private static string Claim(Evidence evidence) => evidence.Detail[..evidence.Detail.LastIndexOf(" (verification: ", StringComparison.Ordinal)];

    internal static byte[] WithGifApplicationExtension(byte[] gif, ReadOnlySpan<byte> identifier, byte[] authentication, byte[] data)
    {
        var block = new List<byte> { 0x21, 0xFF, 11 };
        block.AddRange(identifier.ToArray());
        block.AddRange(authentication);
        foreach (byte[] chunk in data.Chunk(255))
        {
            block.Add((byte)chunk.Length);
            block.AddRange(chunk);
        }

        block.Add(0);
        return Insert(gif, [.. block]);
    }

    // After the header, the logical screen descriptor and the global colour table: where c2pa-rs puts its block.
    private static byte[] Insert(byte[] gif, byte[] block)
    {
        int end = 13 + ((gif[10] & 0x80) != 0 ? 3 << ((gif[10] & 7) + 1) : 0);
        return [.. gif[..end], .. block, .. gif[end..]];
    }

    private static TheoryData<string> Files(string source)
    {
        var data = new TheoryData<string>();
        foreach (Fixture fixture in Fixtures.Values.Where(f => f.Source == source))
        {
            data.Add(fixture.File);
        }

        return data;
    }

    internal static readonly IReadOnlyDictionary<string, Fixture> Fixtures = File.ReadLines(Path.Combine(PublicDir, "expected.csv"))
        .Skip(1)
        .Select(line => line.Split(','))
        .Select(c => new Fixture(c[0], c[1], [.. c[4].Split(';', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)], c[5].Split('|', StringSplitOptions.RemoveEmptyEntries), c[10], c[11], c[12]))
        .ToDictionary(f => f.File, StringComparer.Ordinal);

    /// <param name="Verification">The state of its C2PA claim, checked without a trust list; empty when it has none.</param>
    /// <param name="Trusted">The same, checked with the shipped C2PA trust list (<see cref="C2paVerificationTests.ShippedTrust"/>).</param>
    internal sealed record Fixture(string File, string Source, string[] Evidence, string[] Detail, string Sha256, string Verification, string Trusted);

    /// <summary>Skips the theory, saying why, while any file fetch.sh downloads is missing.</summary>
    private sealed class FetchedFixturesTheoryAttribute : TheoryAttribute
    {
        public FetchedFixturesTheoryAttribute()
        {
            string[] missing = [.. Fixtures.Values.Where(f => f.Source == "fetched" && !System.IO.File.Exists(Path.Combine(FetchedDir, f.File))).Select(f => f.File)];
            if (missing.Length > 0)
            {
                Skip = $"{missing.Length} public fixture files are not here (e.g. {missing[0]}): run tests/assets/provenance/public/fetch.sh, which downloads them from GitHub at pinned commits";
            }
        }
    }
}
