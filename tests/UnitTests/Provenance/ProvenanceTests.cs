using System.Buffers.Binary;
using System.Formats.Cbor;
using System.IO.Compression;
using System.Text;
using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging.Provenance;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.Provenance;

/// <summary>Evidence from real generator files, and from files built here for every other signal and every kind of damage.</summary>
public sealed class ProvenanceTests
{
    private static readonly string SamplesDir = TestAssets.ProvenanceSamplesDir;

    private static readonly string[] Strongest =
        [EvidenceSignals.C2pa, EvidenceSignals.NovelAi, EvidenceSignals.InvokeAi, EvidenceSignals.ComfyUiWorkflow, EvidenceSignals.A1111Parameters, EvidenceSignals.ExifUserComment];

    public static TheoryData<string, string, string> RealFiles()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string line in File.ReadLines(Path.Combine(SamplesDir, "expected.csv")).Skip(1))
        {
            string[] columns = line.Split(',');
            data.Add(columns[0], columns[1], columns[3]);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RealFiles))]
    public void RealGeneratorFilesShowExactlyTheirSignals(string file, string expectedStrongest, string allSignals)
    {
        IReadOnlyList<Evidence> evidence = ProvenanceReader.Read(File.ReadAllBytes(Path.Combine(SamplesDir, file)));

        Assert.DoesNotContain(evidence, e => e.Signal == EvidenceSignals.Unreadable);
        string[] signals = [.. evidence.Select(e => e.Signal).Order(StringComparer.Ordinal)];
        Assert.Equal(allSignals.Split(';', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal), signals);
        Assert.Equal(expectedStrongest, Strongest.FirstOrDefault(signals.Contains) ?? "none");
        Assert.All(evidence, e => Assert.Equal(EvidenceDirection.Ai, e.Indicates));
    }

    [Fact]
    public void TheChatGptManifestNamesItsGeneratorAndSourceType()
    {
        Evidence c2pa = Assert.Single(ProvenanceReader.Read(File.ReadAllBytes(Path.Combine(SamplesDir, "prov_0035.png"))));
        // Valid signature and hashes, but no trust list here: moderate, not strong (only a verified claim decides).
        Assert.Equal(EvidenceStrength.Moderate, c2pa.Strength);
        Assert.Contains("trainedAlgorithmicMedia", c2pa.Detail, StringComparison.Ordinal);
        Assert.Contains("OpenAI", c2pa.Detail, StringComparison.Ordinal);
        Assert.EndsWith("(verification: unverified (trust list not configured))", c2pa.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void RepositorySamplesAndPlainEncodesCarryNoEvidence()
    {
        foreach (string sample in TestAssets.SampleImages)
        {
            Assert.Empty(ProvenanceReader.Read(File.ReadAllBytes(sample)));
        }

        Assert.Empty(ProvenanceReader.Read(Png(Encode(32))));
    }

    [Theory]
    [InlineData("trainedAlgorithmicMedia", EvidenceStrength.Strong, EvidenceDirection.Ai)]
    [InlineData("compositeWithTrainedAlgorithmicMedia", EvidenceStrength.Strong, EvidenceDirection.Ai)]
    [InlineData("digitalCapture", EvidenceStrength.Moderate, EvidenceDirection.Human)]
    public void XmpDigitalSourceTypeInAJpegIsReported(string type, string strength, string direction)
    {
        string xmp = $"""
            <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            <rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
              Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/{type}"/>
            </rdf:RDF></x:xmpmeta>
            """;
        byte[] jpeg = WithJpegSegment(File.ReadAllBytes(TestAssets.Photo), 0xE1, [.. "http://ns.adobe.com/xap/1.0/\0"u8, .. Encoding.UTF8.GetBytes(xmp)]);

        Evidence evidence = Assert.Single(ProvenanceReader.Read(jpeg));
        Assert.Equal(EvidenceSignals.Iptc(type), evidence.Signal);
        Assert.Equal(strength, evidence.Strength);
        Assert.Equal(direction, evidence.Indicates);
    }

    [Fact]
    public void AC2paStoreSplitAcrossThreeApp11SegmentsIsReassembled()
    {
        byte[] store = C2paStore("Test Generator/1.0", "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", padding: 150_000);
        byte[] jpeg = File.ReadAllBytes(TestAssets.Photo);
        foreach ((byte[] segment, int sequence) in SplitIntoApp11(store, 3).Select((s, i) => (s, i)).Reverse())
        {
            jpeg = WithJpegSegment(jpeg, 0xEB, segment, after: sequence);
        }

        MetadataBlocks blocks = MetadataBlocks.Scan(jpeg, ProvenanceLimits.Default);
        Assert.True(blocks.Jumbf?.Length == store.Length, $"reassembled {blocks.Jumbf?.Length} of {store.Length} bytes; {string.Join("; ", blocks.Problems)}");
        Evidence c2pa = Assert.Single(ProvenanceReader.Read(jpeg));
        Assert.Equal(EvidenceSignals.C2pa, c2pa.Signal);
        // A store built here carries no signature: its AI claim is at most moderate.
        Assert.Equal(EvidenceStrength.Moderate, c2pa.Strength);
        Assert.Contains("trainedAlgorithmicMedia by Test Generator/1.0", c2pa.Detail, StringComparison.Ordinal);
        Assert.EndsWith("(verification: unverifiable (no claim signature))", c2pa.Detail, StringComparison.Ordinal);

        // The same store with its middle segment missing cannot be reassembled: unreadable, not a guess.
        byte[] gap = File.ReadAllBytes(TestAssets.Photo);
        byte[][] parts = [.. SplitIntoApp11(store, 3)];
        gap = WithJpegSegment(WithJpegSegment(gap, 0xEB, parts[2]), 0xEB, parts[0]);
        Assert.Equal(EvidenceSignals.Unreadable, Assert.Single(ProvenanceReader.Read(gap)).Signal);
    }

    [Fact]
    public void App11SegmentsBeyondTheStoreLimitAreUnreadableNotKept()
    {
        byte[] store = C2paStore("G", "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", padding: 300_000);
        byte[] jpeg = File.ReadAllBytes(TestAssets.Photo);
        foreach ((byte[] segment, int sequence) in SplitIntoApp11(store, 5).Select((s, i) => (s, i)).Reverse())
        {
            jpeg = WithJpegSegment(jpeg, 0xEB, segment, after: sequence);
        }

        var limits = new ProvenanceLimits(MaxJumbfBytes: 100_000);
        Assert.Null(MetadataBlocks.Scan(jpeg, limits).Jumbf);
        Evidence evidence = Assert.Single(ProvenanceReader.Read(jpeg, limits));
        Assert.Equal(EvidenceSignals.Unreadable, evidence.Signal);
        Assert.Contains("over 100000 bytes", evidence.Detail, StringComparison.Ordinal);
        Assert.Equal(EvidenceSignals.C2pa, Assert.Single(ProvenanceReader.Read(jpeg)).Signal);
    }

    [Fact]
    public void AC2paManifestOfACameraPointsHumanButDoesNotDecide()
    {
        byte[] png = Png(Encode(24), ("caBX", C2paStore("Camera Firmware 2.0", "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture")));
        Evidence c2pa = Assert.Single(ProvenanceReader.Read(png));
        Assert.Equal((EvidenceStrength.Moderate, EvidenceDirection.Human), (c2pa.Strength, c2pa.Indicates));
    }

    [Fact]
    public void APngWithAComfyUiWorkflowAndPromptIsOneComfyUiEvidence()
    {
        string prompt = """{"3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20}}, "4": {"class_type": "CheckpointLoaderSimple", "inputs": {}}}""";
        string workflow = """{"last_node_id": 4, "nodes": [{"id": 3, "type": "KSampler"}], "links": []}""";
        byte[] png = Png(Encode(24), ("tEXt", Text("prompt", prompt)), ("tEXt", Text("workflow", workflow)));

        Evidence evidence = Assert.Single(ProvenanceReader.Read(png));
        Assert.Equal(EvidenceSignals.ComfyUiWorkflow, evidence.Signal);
        Assert.Equal(EvidenceStrength.Strong, evidence.Strength);
    }

    [Fact]
    public void TextThatOnlyMentionsStepsIsNoEvidence()
    {
        byte[] png = Png(Encode(24), ("tEXt", Text("parameters", "a landscape I painted in 12 steps")), ("tEXt", Text("prompt", "{\"not\": \"a graph\"}")));
        Assert.Empty(ProvenanceReader.Read(png));
    }

    [Fact]
    public void MalformedBlocksAreUnreadableEvidenceWithinBoundedMemory()
    {
        byte[] store = C2paStore("X", "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia");
        var cases = new (string Name, byte[] File)[]
        {
            ("truncated JUMBF", Png(Encode(16), ("caBX", store[..(store.Length / 2)]))),
            ("JUMBF box claiming 4 GB", Png(Encode(16), ("caBX", [0xFF, 0xFF, 0xFF, 0xF0, .. "jumb"u8, 0, 0, 0, 0]))),
            ("CBOR nested 100,000 deep", Png(Encode(16), ("caBX", C2paStore(claimCbor: DeepCbor(100_000))))),
            ("CBOR byte string claiming 2^60 bytes", Png(Encode(16), ("caBX", C2paStore(claimCbor: [0x5B, 0x10, 0, 0, 0, 0, 0, 0, 0])))),
            ("zTXt inflating to 100 MB", Png(Encode(16), ("zTXt", CompressedText("parameters", 100_000_000)))),
            ("iTXt with invalid UTF-8", Png(Encode(16), ("iTXt", [.. "Comment"u8, 0, 0, 0, 0, 0, 0xC3, 0x28, 0xFF, 0xFE]))),
            ("JPEG segment running past the end", [0xFF, 0xD8, 0xFF, 0xE1, 0x7F, 0xFF, .. "Exif\0\0"u8]),
            ("EXIF that is not TIFF", WithJpegSegment(File.ReadAllBytes(TestAssets.Photo), 0xE1, [.. "Exif\0\0"u8, .. "garbage that is no TIFF header"u8])),
        };

        foreach ((string name, byte[] file) in cases)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            IReadOnlyList<Evidence> evidence = ProvenanceReader.Read(file);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.True(evidence.All(e => e.Indicates != EvidenceDirection.Ai), $"{name}: {string.Join("; ", evidence)}");
            Assert.True(allocated < 64L << 20, $"{name}: allocated {allocated >> 20} MB");
            Assert.True(evidence.Any(e => e.Signal == EvidenceSignals.Unreadable), $"{name}: {string.Join("; ", evidence)}");
        }
    }

    [Fact]
    public void TextOverTheLimitIsSkippedAndSaidSoWhateverItBeginsWith()
    {
        // A1111 settings at the start of 2 MB of text: the cut first part is not taken for the whole.
        const string settings = "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512";
        string padded = settings + new string(' ', (2 << 20) - settings.Length);
        var limits = new ProvenanceLimits(MaxTextBytes: 1 << 20);

        foreach ((string chunk, byte[] data) in new[]
        {
            ("tEXt", Text("parameters", padded)),
            ("iTXt", (byte[])[.. "parameters"u8, 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(padded)]),
            ("zTXt", CompressedText("parameters", 2 << 20)),
        })
        {
            IReadOnlyList<Evidence> evidence = ProvenanceReader.Read(Png(Encode(16), (chunk, data)), limits);
            Evidence skipped = Assert.Single(evidence);
            Assert.Equal(EvidenceSignals.Unreadable, skipped.Signal);
            Assert.StartsWith($"PNG: {chunk} 'parameters' ", skipped.Detail, StringComparison.Ordinal);
            Assert.Contains("the 1048576-byte", skipped.Detail, StringComparison.Ordinal);
            Assert.EndsWith("limit: not read", skipped.Detail, StringComparison.Ordinal);
        }

        Evidence read = Assert.Single(ProvenanceReader.Read(Png(Encode(16), ("tEXt", Text("parameters", settings))), limits));
        Assert.Equal(EvidenceSignals.A1111Parameters, read.Signal);
    }

    [Theory]
    // Unsigned stores built here: at most moderate either way (a verified parentOf creation would be strong).
    [InlineData("parentOf", EvidenceStrength.Moderate)]
    [InlineData("componentOf", EvidenceStrength.Moderate)]
    public void AnAiCreationInAnIngredientsManifestIsReportedAsComingFromIt(string relationship, string strength)
    {
        // The active manifest (last) opened or placed an image whose own manifest, earlier in the store, created it.
        byte[] store = Store(
            Manifest("urn:uuid:made", "Generator/1.0", [("c2pa.created", "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia")], []),
            Manifest("urn:uuid:edit", "Editor/2.0", [("c2pa.opened", null)], [(relationship, "self#jumbf=/c2pa/urn:uuid:made")]));

        Evidence c2pa = Assert.Single(ProvenanceReader.Read(Png(Encode(16), ("caBX", store))));
        Assert.Equal((EvidenceSignals.C2pa, strength, EvidenceDirection.Ai), (c2pa.Signal, c2pa.Strength, c2pa.Indicates));
        Assert.Contains($"trainedAlgorithmicMedia by Generator/1.0 from an ingredient ({relationship} 'ingredient.png') of the active manifest by Editor/2.0 (c2pa.opened)", c2pa.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void IngredientsThatNameEachOtherAreEachReadOnce()
    {
        // Two manifests, each the other's ingredient, and a third named by both: no loop, no manifest read twice.
        byte[] store = Store(
            Manifest("urn:uuid:a", "A", [("c2pa.opened", null)], [("parentOf", "self#jumbf=c2pa/urn:uuid:b"), ("componentOf", "self#jumbf=c2pa/urn:uuid:c")]),
            Manifest("urn:uuid:c", "C", [("c2pa.created", null)], [("parentOf", "self#jumbf=c2pa/urn:uuid:a")]),
            Manifest("urn:uuid:b", "B", [("c2pa.opened", null)], [("parentOf", "self#jumbf=c2pa/urn:uuid:a"), ("componentOf", "self#jumbf=c2pa/urn:uuid:c"), ("parentOf", "self#jumbf=c2pa/urn:uuid:missing")]));

        C2paManifest active = C2paManifest.Parse(store, ProvenanceLimits.Default);
        Assert.Equal(["urn:uuid:b", "urn:uuid:a", "urn:uuid:c"], active.WithIngredients().Select(m => m.Manifest.Label));
        Assert.Null(active.Ingredients[2].Manifest);
        Evidence c2pa = Assert.Single(ProvenanceReader.Read(Png(Encode(16), ("caBX", store))));
        Assert.Equal((EvidenceStrength.Weak, EvidenceDirection.Unknown), (c2pa.Strength, c2pa.Indicates));
        Assert.Contains("2 ingredient manifests", c2pa.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TheC2paStoreIsTheApp11InstanceLabelledC2pa()
    {
        // Another JUMBF box (instance 1) before the store (instance 2, numbered from 0 as Microsoft's writer does).
        byte[] other = Superbox("other", Box("json", "{}"u8.ToArray()));
        byte[] store = C2paStore("G", "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia");
        byte[] jpeg = File.ReadAllBytes(TestAssets.Photo);
        jpeg = WithJpegSegment(jpeg, 0xEB, [(byte)'J', (byte)'P', 0, 2, 0, 0, 0, 0, .. store]);
        jpeg = WithJpegSegment(jpeg, 0xEB, [(byte)'J', (byte)'P', 0, 1, 0, 0, 0, 1, .. other]);

        Assert.Equal(store, MetadataBlocks.Scan(jpeg, ProvenanceLimits.Default).Jumbf);
        Assert.Equal((EvidenceSignals.C2pa, EvidenceStrength.Moderate), Assert.Single(ProvenanceReader.Read(jpeg)) is var e ? (e.Signal, e.Strength) : default);

        // The other box alone is no C2PA store: said so, not read as one.
        byte[] alone = WithJpegSegment(File.ReadAllBytes(TestAssets.Photo), 0xEB, [(byte)'J', (byte)'P', 0, 1, 0, 0, 0, 1, .. other]);
        Assert.Contains("labelled 'other'", Assert.Single(ProvenanceReader.Read(alone)).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void DrawThingsIsNamedFromItsXmpCreatorTool()
    {
        string xmp = """
            <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/">
            <xmp:CreatorTool>Draw Things</xmp:CreatorTool>
            <exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">{"c":"a lighthouse","sampler":"DPM++ 2M AYS","seed":12345,"steps":20}</rdf:li></rdf:Alt></exif:UserComment>
            </rdf:Description></rdf:RDF></x:xmpmeta>
            """;
        Evidence evidence = Assert.Single(ProvenanceReader.Read(Png(Encode(16), ("iTXt", [.. "XML:com.adobe.xmp"u8, 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(xmp)]))));
        Assert.Equal((EvidenceSignals.DrawThings, EvidenceStrength.Strong), (evidence.Signal, evidence.Strength));
        Assert.Contains("'Draw Things' with its generation settings", evidence.Detail, StringComparison.Ordinal);

        Assert.Empty(ProvenanceReader.Read(Png(Encode(16), ("iTXt", [.. "XML:com.adobe.xmp"u8, 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(xmp.Replace("Draw Things", "GIMP 2.10", StringComparison.Ordinal))]))));
    }

    [Theory]
    [InlineData(true, "stealth_pngcomp")]
    [InlineData(false, "stealth_rgbinfo")]
    public void A1111ParametersInThePixelsAreNamedForA1111InAlphaOrRgb(bool alpha, string magic)
    {
        const string Parameters = "a lighthouse\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 64x64";
        byte[] payload = Encoding.UTF8.GetBytes(Parameters);
        if (magic.EndsWith("comp", StringComparison.Ordinal))
        {
            var gzip = new MemoryStream();
            using (var writer = new GZipStream(gzip, CompressionLevel.Optimal, leaveOpen: true))
            {
                writer.Write(payload);
            }

            payload = gzip.ToArray();
        }

        using Image<Rgba32> image = Image.Load<Rgba32>(TestAssets.Photo);
        List<int> bits = [.. Bits(Encoding.ASCII.GetBytes(magic)), .. Bits([0, 0, (byte)((payload.Length * 8) >> 8), (byte)(payload.Length * 8)]), .. Bits(payload)];
        int channels = alpha ? 1 : 3;
        for (int i = 0; i < bits.Count; i++)
        {
            int pixel = i / channels, x = pixel / image.Height, y = pixel % image.Height;
            Rgba32 value = image[x, y];
            switch (alpha ? 3 : i % 3)
            {
                case 0: value.R = (byte)((value.R & ~1) | bits[i]); break;
                case 1: value.G = (byte)((value.G & ~1) | bits[i]); break;
                case 2: value.B = (byte)((value.B & ~1) | bits[i]); break;
                default: value.A = (byte)(254 | bits[i]); break;
            }

            image[x, y] = value;
        }

        Evidence evidence = Assert.IsType<Evidence>(StealthMetadata.Read(image));
        Assert.Equal((EvidenceSignals.A1111Stealth, EvidenceStrength.Strong), (evidence.Signal, evidence.Strength));
        Assert.Contains($"'{magic}'): Steps: 20, Sampler: Euler a", evidence.Detail, StringComparison.Ordinal);

        static IEnumerable<int> Bits(byte[] bytes) => bytes.SelectMany(b => Enumerable.Range(0, 8).Select(i => (b >> (7 - i)) & 1));
    }

    [Fact]
    public void UserCommentTextIsDecodedInEitherByteOrder()
    {
        const string settings = "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1";
        foreach (Encoding encoding in new[] { Encoding.BigEndianUnicode, Encoding.Unicode })
        {
            Assert.Equal(settings, ProvenanceReader.DecodeUserComment([.. "UNICODE\0"u8, .. encoding.GetBytes(settings)]));
        }

        Assert.Equal(settings, ProvenanceReader.DecodeUserComment([.. "ASCII\0\0\0"u8, .. Encoding.ASCII.GetBytes(settings)]));
    }

    // --- building files ---

    private static byte[] Encode(int size)
    {
        using var image = new Image<Rgb24>(size, size, new Rgb24(10, 120, 200));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>Inserts chunks right after IHDR of a PNG.</summary>
    private static byte[] Png(byte[] png, params (string Type, byte[] Data)[] chunks)
    {
        int ihdrEnd = 8 + 8 + 13 + 4;
        var output = new MemoryStream();
        output.Write(png, 0, ihdrEnd);
        Span<byte> header = stackalloc byte[8];
        Span<byte> crc = stackalloc byte[4];
        foreach ((string type, byte[] data) in chunks)
        {
            BinaryPrimitives.WriteUInt32BigEndian(header, (uint)data.Length);
            Encoding.ASCII.GetBytes(type, header[4..]);
            output.Write(header);
            output.Write(data);
            byte[] crcInput = [.. header[4..], .. data];
            BinaryPrimitives.WriteUInt32BigEndian(crc, System.IO.Hashing.Crc32.HashToUInt32(crcInput));
            output.Write(crc);
        }

        output.Write(png, ihdrEnd, png.Length - ihdrEnd);
        return output.ToArray();
    }

    private static byte[] Text(string key, string text) => [.. Encoding.Latin1.GetBytes(key), 0, .. Encoding.Latin1.GetBytes(text)];

    private static byte[] CompressedText(string key, int inflatedBytes)
    {
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            byte[] block = new byte[1 << 20];
            Array.Fill(block, (byte)'a');
            for (int written = 0; written < inflatedBytes; written += block.Length)
            {
                zlib.Write(block);
            }
        }

        return [.. Encoding.Latin1.GetBytes(key), 0, 0, .. compressed.ToArray()];
    }

    /// <summary>Inserts a JPEG segment after SOI (and after <paramref name="after"/> segments already there).</summary>
    private static byte[] WithJpegSegment(byte[] jpeg, byte marker, byte[] payload, int after = 0)
    {
        int position = 2;
        for (int i = 0; i < after; i++)
        {
            position += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(position + 2));
        }

        byte[] segment = [0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2), .. payload];
        return [.. jpeg[..position], .. segment, .. jpeg[position..]];
    }

    /// <summary>C2PA's APP11 layout: "JP", instance 1, sequence 1..n, the box header repeated in every segment.</summary>
    private static IEnumerable<byte[]> SplitIntoApp11(byte[] box, int parts)
    {
        byte[] header = box[..8];
        byte[] body = box[8..];
        int size = (body.Length + parts - 1) / parts;
        for (int i = 0; i < parts; i++)
        {
            byte[] piece = body[(i * size)..Math.Min(body.Length, (i + 1) * size)];
            byte[] prefix = [(byte)'J', (byte)'P', 0, 1, 0, 0, 0, (byte)(i + 1)];
            yield return [.. prefix, .. header, .. piece];
        }
    }

    /// <summary>A minimal C2PA manifest store: one manifest with a claim and an actions assertion.</summary>
    private static byte[] C2paStore(string generator = "G", string? sourceType = null, int padding = 0, byte[]? claimCbor = null)
    {
        if (claimCbor is null)
        {
            var claim = new CborWriter();
            claim.WriteStartMap(2);
            claim.WriteTextString("claim_generator");
            claim.WriteTextString(generator);
            claim.WriteTextString("padding");
            claim.WriteByteString(new byte[padding]);
            claim.WriteEndMap();
            claimCbor = claim.Encode();
        }

        var actions = new CborWriter();
        actions.WriteStartMap(1);
        actions.WriteTextString("actions");
        actions.WriteStartArray(1);
        actions.WriteStartMap(sourceType is null ? 1 : 2);
        actions.WriteTextString("action");
        actions.WriteTextString("c2pa.created");
        if (sourceType is not null)
        {
            actions.WriteTextString("digitalSourceType");
            actions.WriteTextString(sourceType);
        }

        actions.WriteEndMap();
        actions.WriteEndArray();
        actions.WriteEndMap();

        byte[] assertions = Superbox("c2pa.assertions", Superbox("c2pa.actions", Box("cbor", actions.Encode())));
        byte[] manifest = Superbox("urn:uuid:00000000-0000-0000-0000-000000000001", [.. assertions, .. Superbox("c2pa.claim", Box("cbor", claimCbor))]);
        return Superbox("c2pa", manifest);
    }

    /// <summary>A store of several manifests, the last one active.</summary>
    private static byte[] Store(params byte[][] manifests) => Superbox("c2pa", [.. manifests.SelectMany(m => m)]);

    private static byte[] Manifest(string label, string generator, (string Action, string? SourceType)[] actions, (string Relationship, string Url)[] ingredients)
    {
        var claim = new CborWriter();
        claim.WriteStartMap(1);
        claim.WriteTextString("claim_generator");
        claim.WriteTextString(generator);
        claim.WriteEndMap();

        var body = new CborWriter();
        body.WriteStartMap(1);
        body.WriteTextString("actions");
        body.WriteStartArray(actions.Length);
        foreach ((string action, string? type) in actions)
        {
            body.WriteStartMap(type is null ? 1 : 2);
            body.WriteTextString("action");
            body.WriteTextString(action);
            if (type is not null)
            {
                body.WriteTextString("digitalSourceType");
                body.WriteTextString(type);
            }

            body.WriteEndMap();
        }

        body.WriteEndArray();
        body.WriteEndMap();
        List<byte> assertions = [.. Superbox("c2pa.actions", Box("cbor", body.Encode()))];
        for (int i = 0; i < ingredients.Length; i++)
        {
            var ingredient = new CborWriter();
            ingredient.WriteStartMap(3);
            ingredient.WriteTextString("dc:title");
            ingredient.WriteTextString("ingredient.png");
            ingredient.WriteTextString("relationship");
            ingredient.WriteTextString(ingredients[i].Relationship);
            ingredient.WriteTextString("c2pa_manifest");
            ingredient.WriteStartMap(1);
            ingredient.WriteTextString("url");
            ingredient.WriteTextString(ingredients[i].Url);
            ingredient.WriteEndMap();
            ingredient.WriteEndMap();
            assertions.AddRange(Superbox(i == 0 ? "c2pa.ingredient" : $"c2pa.ingredient__{i}", Box("cbor", ingredient.Encode())));
        }

        return Superbox(label, [.. Superbox("c2pa.assertions", [.. assertions]), .. Superbox("c2pa.claim", Box("cbor", claim.Encode()))]);
    }

    private static byte[] Superbox(string label, byte[] content)
    {
        byte[] description = Box("jumd", [.. new byte[16], 0x03, .. Encoding.UTF8.GetBytes(label), 0]);
        return Box("jumb", [.. description, .. content]);
    }

    private static byte[] Box(string type, byte[] payload)
    {
        byte[] header = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)(payload.Length + 8));
        Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        return [.. header, .. payload];
    }

    private static byte[] DeepCbor(int depth)
    {
        byte[] cbor = new byte[depth + 1];
        Array.Fill(cbor, (byte)0x81); // array of one element, nested
        cbor[^1] = 0x00;
        return cbor;
    }
}
