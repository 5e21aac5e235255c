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
        Assert.Equal(EvidenceStrength.Strong, c2pa.Strength);
        Assert.Contains("trainedAlgorithmicMedia", c2pa.Detail, StringComparison.Ordinal);
        Assert.Contains("OpenAI", c2pa.Detail, StringComparison.Ordinal);
        Assert.Contains("not verified", c2pa.Detail, StringComparison.Ordinal);
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
        Assert.Equal(EvidenceStrength.Strong, c2pa.Strength);
        Assert.Contains("trainedAlgorithmicMedia by Test Generator/1.0", c2pa.Detail, StringComparison.Ordinal);

        // The same store with its middle segment missing cannot be reassembled: unreadable, not a guess.
        byte[] gap = File.ReadAllBytes(TestAssets.Photo);
        byte[][] parts = [.. SplitIntoApp11(store, 3)];
        gap = WithJpegSegment(WithJpegSegment(gap, 0xEB, parts[2]), 0xEB, parts[0]);
        Assert.Equal(EvidenceSignals.Unreadable, Assert.Single(ProvenanceReader.Read(gap)).Signal);
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
            if (name != "zTXt inflating to 100 MB")
            {
                Assert.True(evidence.Any(e => e.Signal == EvidenceSignals.Unreadable), $"{name}: {string.Join("; ", evidence)}");
            }
        }
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
