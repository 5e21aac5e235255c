using ArtGrid.Imaging;
using ArtGrid.Imaging.Provenance;
using ArtGrid.Imaging.Sandbox;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Fuzz;

/// <summary>
/// One fuzz target per reader of untrusted bytes. Each calls the reader as production does and lets through only what
/// that reader documents as the answer to bad input (the exceptions its callers catch); any other exception escapes and
/// afl-fuzz records the input as a crash. Readers documented as never throwing let nothing through.
/// </summary>
public static class Targets
{
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>
    {
        ["container"] = Container,
        ["c2pa"] = C2pa,
        ["metadata"] = Metadata,
        ["pixels"] = Pixels,
        ["protocol"] = Protocol,
    };

    private static ProvenanceLimits? _limits;

    /// <summary>
    /// Small limits, so that the fuzzer reaches the limit checks and spends its time on structure, not on copies. Made on
    /// first use, inside the fuzzing loop: instrumented code that runs before SharpFuzz has set up afl's coverage map
    /// (a static initialiser of this class) writes through a null pointer.
    /// </summary>
    private static ProvenanceLimits Limits => _limits ??= new(MaxTextBytes: 1 << 16, MaxBlocks: 256, MaxJumbfBytes: 1 << 20);

    /// <summary>
    /// The container walkers: the decoder's structural checks (JPEG segments to the first scan and its end marker, PNG
    /// chunks to IEND, the PNG without its text), which never throw, and the metadata walk over JPEG segments, PNG chunks,
    /// WebP RIFF chunks and GIF blocks (with APP11 JUMBF reassembly), whose caller (<see cref="ProvenanceReader.Read"/>)
    /// takes an <see cref="ArgumentException"/>, <see cref="IndexOutOfRangeException"/> or
    /// <see cref="InvalidDataException"/> as an unreadable container; and the C2PA box map of a JPEG or PNG
    /// (<see cref="C2paBoxMap.Map"/>), which never throws and keeps every box inside the file.
    /// </summary>
    public static void Container(byte[] data)
    {
        ContainerChecks.JpegHasEndOfImage(data);
        if (ContainerChecks.PngHasEnd(data))
        {
            byte[] withoutText = ContainerChecks.PngWithoutLargeText(data, maxTextBytes: 16);
            if (withoutText.Length > data.Length || !ContainerChecks.PngHasEnd(withoutText))
            {
                throw new InvalidOperationException($"The PNG without its text ({withoutText.Length} bytes) is not a whole PNG no larger than the original ({data.Length}).");
            }
        }

        try
        {
            MetadataBlocks.Scan(data, Limits);
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or InvalidDataException)
        {
        }

        // The box map a C2PA box hash is checked over: never throws, every box inside the file.
        if (C2paBoxMap.Map(data) is { } boxes && boxes.Find(b => b.Start < 0 || b.Length < 0 || b.End > data.Length) is { Name: not null } outside)
        {
            throw new InvalidOperationException($"Box {outside} lies outside the {data.Length}-byte file.");
        }
    }

    /// <summary>
    /// A C2PA manifest store as JUMBF boxes of CBOR: <see cref="C2paManifest.Parse"/> answers a malformed store with
    /// <see cref="InvalidDataException"/>; then the verifier (COSE_Sign1, certificates, hash assertions against the input
    /// itself as the file), which never throws on what the file holds.
    /// </summary>
    public static void C2pa(byte[] data)
    {
        C2paManifest manifest;
        try
        {
            manifest = C2paManifest.Parse(data, Limits);
        }
        catch (InvalidDataException)
        {
            return;
        }

        foreach ((C2paManifest each, _, _) in manifest.WithIngredients())
        {
            C2paVerifier.Verify(each, data, checkBinding: true, trust: null, Limits);
        }
    }

    /// <summary>
    /// A whole file as the silo and the worker read it: every metadata block (EXIF, XMP, PNG tEXt/zTXt/iTXt, JUMBF/C2PA)
    /// found, parsed and weighed. <see cref="ProvenanceReader.Read"/> never throws: what it cannot read is evidence.
    /// </summary>
    public static void Metadata(byte[] data) => ProvenanceReader.Read(data, Limits);

    /// <summary>
    /// The readers of decoded pixels, which see whatever a decoder made of the file: the stealth metadata in the least
    /// significant bits and the DWT-DCT watermark. The first byte is the image's height (1-255), the rest RGBA pixels row by
    /// row (a decoder's output, without a decoder in the way). Neither reader throws.
    /// </summary>
    public static void Pixels(byte[] data)
    {
        if (data.Length < 5)
        {
            return;
        }

        int height = Math.Max(1, (int)data[0]);
        int width = (data.Length - 1) / 4 / height;
        if (width == 0)
        {
            return;
        }

        using Image<Rgba32> image = Image.LoadPixelData<Rgba32>(data.AsSpan(1, width * height * 4), width, height);
        StealthMetadata.Read(image);
        DwtDctWatermark.Detect(image);
    }

    /// <summary>
    /// The decode worker's protocol, both directions. First byte even: the rest is what a worker reads on its standard
    /// input (decode requests until the end); odd: what the supervisor reads from a worker (frames, each parsed as a worker
    /// message). Both callers take <see cref="IOException"/> (<see cref="EndOfStreamException"/> among them) and
    /// <see cref="InvalidDataException"/> as a broken pipe or protocol.
    /// </summary>
    public static void Protocol(byte[] data)
    {
        if (data.Length == 0)
        {
            return;
        }

        using var stream = new MemoryStream(data, 1, data.Length - 1, writable: false);
        try
        {
            if (data[0] % 2 == 0)
            {
                while (DecodeProtocol.ReadDecodeRequest(stream, maxImageBytes: 1 << 16) is not null)
                {
                }
            }
            else
            {
                while (DecodeProtocol.ReadFrameAsync(stream, DecodeProtocol.MaxControlBytes).GetAwaiter().GetResult() is { } frame)
                {
                    DecodeProtocol.ReadWorkerMessage(frame);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
        }
    }
}
