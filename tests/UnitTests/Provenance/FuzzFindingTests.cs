using ArtGrid.Imaging.Provenance;

namespace ArtGrid.Tests.Provenance;

/// <summary>
/// Inputs that fuzz/run.sh found throwing out of the provenance readers, kept as afl-fuzz wrote them
/// (tests/assets/fuzz), fed to the reader as the fuzz target fed them. Each threw before its fix; the C2PA reader
/// answers a malformed store with InvalidDataException only, and the verifier and ProvenanceReader.Read never throw.
/// </summary>
public sealed class FuzzFindingTests
{
    [Fact]
    public void ACertificateWhosePublicKeyDoesNotDecodeIsAnInvalidSignature()
    {
        // The c2pa target's input, a C2PA store: c2pa-rs's signer certificate with bytes of its EC public key changed. The
        // certificate parses; OpenSSL refuses the key only when GetECDsaPublicKey asks for it, and that
        // CryptographicException escaped the verifier.
        byte[] jumbf = File.ReadAllBytes(TestAssets.FuzzInput("c2pa-signer-key-unreadable.jumbf"));
        C2paManifest manifest = C2paManifest.Parse(jumbf, ProvenanceLimits.Default);

        C2paVerification verification = C2paVerifier.Verify(manifest, jumbf, checkBinding: true, trust: null, ProvenanceLimits.Default);

        Assert.Equal(C2paVerificationStates.SignatureInvalid, verification.State);
        Assert.StartsWith("the signer's public key is unreadable", verification.Reason);
    }

    [Fact]
    public void AFileWhoseSignerKeyDoesNotDecodeIsReportedAsABrokenManifest()
    {
        // The metadata target's input, a whole JPEG (its scan cut short) whose C2PA signer key is damaged the same way:
        // ProvenanceReader.Read, which promises never to throw, threw.
        byte[] file = File.ReadAllBytes(TestAssets.FuzzInput("metadata-signer-key-unreadable.jpg"));

        IReadOnlyList<Evidence> evidence = ProvenanceReader.Read(file);

        Evidence broken = Assert.Single(evidence, e => e.Signal == EvidenceSignals.C2paBroken);
        Assert.Contains("signer's public key is unreadable", broken.Detail, StringComparison.Ordinal);
        Assert.Equal(EvidenceDirection.Unknown, broken.Indicates);
    }

    [Fact]
    public void ACborIntegerPastALongIsReadAndTheCborAfterItJudged()
    {
        // The c2pa target's input: an integer of 2^63 or more in a claim's CBOR, which then ends early. CborReader.ReadInt64
        // threw OverflowException, which neither the parser nor ProvenanceReader took for malformed input; now the integer
        // is read and the store is refused for what follows it.
        byte[] jumbf = File.ReadAllBytes(TestAssets.FuzzInput("c2pa-cbor-integer-overflow.jumbf"));

        InvalidDataException refused = Assert.Throws<InvalidDataException>(() => C2paManifest.Parse(jumbf, ProvenanceLimits.Default));

        Assert.IsType<System.Formats.Cbor.CborContentException>(refused.InnerException);
    }

    [Fact]
    public void CborIntegersAtTheEdgesOfALongAndPastThem()
    {
        // 2^63 - 1, 2^63, 2^64 - 1, -2^63, -2^63 - 1, -2^64 as CBOR major types 0 and 1 with 8-byte arguments.
        object?[] values = [.. new[]
        {
            "1b7fffffffffffffff", "1b8000000000000000", "1bffffffffffffffff",
            "3b7fffffffffffffff", "3b8000000000000000", "3bffffffffffffffff",
        }.Select(hex => CborValue.Read(Convert.FromHexString(hex), maxString: 100))];

        Assert.Equal<object?>([long.MaxValue, 1UL << 63, ulong.MaxValue, long.MinValue, -1d - (1UL << 63), -1d - ulong.MaxValue], values);
    }

    [Fact]
    public void ATextChunkThatInflateFailsOnIsUnreadableText()
    {
        // The metadata target's input: sd-parsers' automatic1111_cropped.png, mutated until a zTXt chunk's deflate data made
        // zlib fail with an error code .NET reports as ZLibException (an IOException) rather than InvalidDataException, the
        // one the inflater's caller caught. It threw out of ProvenanceReader.Read.
        byte[] file = File.ReadAllBytes(TestAssets.FuzzInput("metadata-ztxt-zlib-error.png"));

        IReadOnlyList<Evidence> evidence = ProvenanceReader.Read(file);

        Evidence unreadable = Assert.Single(evidence, e => e.Signal == EvidenceSignals.Unreadable && e.Detail.Contains("zTXt", StringComparison.Ordinal));
        Assert.EndsWith("does not inflate", unreadable.Detail, StringComparison.Ordinal);
    }
}
