using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ArtGrid.Imaging.Provenance;
using ArtGrid.Inference;

namespace ArtGrid.Tests.Provenance;

/// <summary>
/// C2PA claims checked against real files: public ones as they were signed, and copies tampered with here (a pixel
/// byte inside the hashed range, a byte of the signature, a COSE structure made malformed), with and without trust
/// anchors. The states each public file reports are in tests/assets/provenance/public/expected.csv.
/// </summary>
public sealed class C2paVerificationTests
{
    private static readonly string PublicDir = Path.Combine(TestAssets.ProvenanceSamplesDir, "public");

    // c2pa-rs's test roots (sdk/tests/fixtures/certs/trust/test_cert_root_bundle.pem): what its make_test_images signers chain to.
    private static readonly string TestRoots = Path.Combine(PublicDir, "c2pa-rs", "test_cert_root_bundle.pem");

    // The shipped C2PA trust list, its certificates checked as of a fixed day: the signers' certificates of the files
    // that verify against it expire (Gemini's in February 2027, OpenAI's in March 2027), and ArtGrid reads no time-stamp.
    internal static readonly C2paTrustList ShippedTrust = C2paTrustList.FromOption(null)!.At(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    // Signed files whose claim checks today (signature, assertions and data hash): c2pa-rs's JPEGs (ES256 and PS256,
    // one APP11 segment or five), ChatGPT's PNG (caBX).
    public static TheoryData<string> ValidFiles() => new(
        Path.Combine(PublicDir, "c2pa-rs", "C_with_CAWG_data.jpg"),
        Path.Combine(PublicDir, "c2pa-rs", "ocsp.jpg"),
        Path.Combine(PublicDir, "c2pa-rs", "C.jpg"),
        Path.Combine(TestAssets.ProvenanceSamplesDir, "prov_0035.png"));

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void AValidClaimIsUnverifiedWithoutATrustList(string path)
    {
        Evidence claim = Claim(File.ReadAllBytes(path));

        Assert.Equal(EvidenceSignals.C2pa, claim.Signal);
        Assert.Equal(C2paVerificationStates.TrustListNotConfigured, State(claim));
        Assert.NotEqual(EvidenceStrength.Strong, claim.Strength);
    }

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void APixelByteChangedAfterSigningIsAHashMismatch(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        // Near the end: inside the last JPEG scan or PNG IDAT, never in the manifest the data hash leaves out.
        file[file.Length - 200] ^= 0x01;

        Evidence claim = Claim(file);

        Assert.Equal(EvidenceSignals.C2paBroken, claim.Signal);
        Assert.Equal(C2paVerificationStates.HashMismatch, State(claim));
        Assert.Equal((EvidenceStrength.Weak, EvidenceDirection.Unknown), (claim.Strength, claim.Indicates));
    }

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void AByteOfTheSignatureChangedIsAnInvalidSignature(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        // The COSE_Sign1 ends with its signature: flip its last byte where the file holds it.
        byte[] cose = Signature(file);
        int at = file.AsSpan().IndexOf(cose.AsSpan(cose.Length - 32));
        Assert.True(at > 0);
        file[at + 31] ^= 0x01;

        Evidence claim = Claim(file);

        Assert.Equal(EvidenceSignals.C2paBroken, claim.Signal);
        Assert.Equal(C2paVerificationStates.SignatureInvalid, State(claim));
    }

    [Fact]
    public void AMalformedCoseStructureIsAnInvalidSignatureAndNeverThrows()
    {
        byte[] file = File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-rs", "C_with_CAWG_data.jpg"));
        byte[] cose = Signature(file);
        int at = file.AsSpan().IndexOf(cose.AsSpan(0, 32));
        Assert.True(at > 0);
        // An array of 24 items whose items are not there: no COSE_Sign1 (and no CBOR) reads it.
        file[at] = 0x98;
        file[at + 1] = 24;

        Evidence claim = Claim(file);

        Assert.Equal(EvidenceSignals.C2paBroken, claim.Signal);
        Assert.StartsWith(C2paVerificationStates.SignatureInvalid + " (malformed COSE_Sign1", State(claim), StringComparison.Ordinal);
    }

    [Fact]
    public void AClaimFromASignerThatChainsToTheTrustListIsVerifiedAndDecides()
    {
        C2paTrustList trust = Assert.IsType<C2paTrustList>(C2paTrustList.Load(TestRoots));
        byte[] file = File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-rs", "C.jpg"));

        Evidence claim = Claim(file, trust);

        Assert.Equal(C2paVerificationStates.Verified, State(claim));
        Assert.True(C2paVerificationStates.IsVerified(claim));
        Assert.Equal((EvidenceSignals.C2pa, EvidenceStrength.Strong, EvidenceDirection.Ai), (claim.Signal, claim.Strength, claim.Indicates));
        Assert.Equal(Labels.Ai, Merge(claim, Labels.Human).Label);

        // The same file without the trust list: moderate, listed, and the classifier's label stands.
        Evidence unverified = Claim(file);
        Assert.Equal(EvidenceStrength.Moderate, unverified.Strength);
        Assert.Equal(Labels.Human, Merge(unverified, Labels.Human).Label);
    }

    [Fact]
    public void AClaimFromASignerOutsideTheTrustListIsUntrusted()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 stranger = new CertificateRequest("CN=Some Other Root", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        C2paTrustList trust = C2paTrustList.FromCertificates([stranger]);

        Evidence claim = Claim(File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-rs", "C.jpg")), trust);

        Assert.StartsWith(C2paVerificationStates.UntrustedSigner + " (", State(claim), StringComparison.Ordinal);
        Assert.Equal(EvidenceStrength.Moderate, claim.Strength);
    }

    [Fact]
    public void ATrustListPathWithoutCertificatesIsRefused()
    {
        Assert.Null(C2paTrustList.Load(null));
        Assert.Throws<InvalidOperationException>(() => C2paTrustList.Load(Path.Combine(PublicDir, "c2pa-rs", "no such file.pem")));
        Assert.Throws<InvalidOperationException>(() => C2paTrustList.Load(Path.Combine(PublicDir, "c2pa-rs", "LICENSE-MIT")));
        Assert.Equal(8, Assert.IsType<C2paTrustList>(C2paTrustList.Load(TestRoots)).Anchors.Count);
    }

    [Fact]
    public void TheShippedC2paTrustListIsTheDefault_AndNoneOrAPathReplacesIt()
    {
        Assert.True(File.Exists(C2paTrustList.ShippedPath), C2paTrustList.ShippedPath);
        int inFile = File.ReadLines(C2paTrustList.ShippedPath).Count(line => line == "-----BEGIN CERTIFICATE-----");
        Assert.Equal(30, inFile);
        Assert.Equal(inFile, Assert.IsType<C2paTrustList>(C2paTrustList.FromOption(null)).Anchors.Count);
        Assert.Contains(C2paTrustList.FromOption(null)!.Anchors, c => c.Subject.Contains("CN=Google C2PA Root CA G3", StringComparison.Ordinal));

        Assert.Null(C2paTrustList.FromOption("none"));
        Assert.Null(C2paTrustList.FromOption(" None "));
        Assert.Null(C2paTrustList.FromOption(""));
        Assert.Equal(8, Assert.IsType<C2paTrustList>(C2paTrustList.FromOption(TestRoots)).Anchors.Count);
        Assert.Throws<InvalidOperationException>(() => C2paTrustList.FromOption(Path.Combine(PublicDir, "c2pa-rs", "LICENSE-MIT")));
    }

    [Fact]
    public void AChatGptImageWhoseSignerChainsToTheC2paTrustListIsVerified_UntilItsCertificateExpires()
    {
        // OpenAI Media Service, issued by Trufo's claim signing CA (on the list), valid from March 2026 to March 2027.
        byte[] file = File.ReadAllBytes(Path.Combine(TestAssets.ProvenanceSamplesDir, "prov_0035.png"));

        Evidence claim = Claim(file, ShippedTrust);

        Assert.Equal(C2paVerificationStates.Verified, State(claim));
        Assert.Equal((EvidenceSignals.C2pa, EvidenceStrength.Strong, EvidenceDirection.Ai), (claim.Signal, claim.Strength, claim.Indicates));
        Assert.Contains("OpenAI", claim.Detail, StringComparison.Ordinal);

        // Checked after the certificate's end, with no time-stamp read: an untrusted signer, moderate, deciding nothing.
        Evidence later = Claim(file, ShippedTrust.At(new DateTimeOffset(2027, 6, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(C2paVerificationStates.UntrustedSigner + " (OpenAI Media Service: NotTimeValid)", State(later));
        Assert.Equal(EvidenceStrength.Moderate, later.Strength);

        // c2pa-rs's test signer is not on it.
        Assert.StartsWith(C2paVerificationStates.UntrustedSigner, State(Claim(File.ReadAllBytes(Path.Combine(PublicDir, "c2pa-rs", "C.jpg")), ShippedTrust)), StringComparison.Ordinal);
    }

    private static ImageScore Merge(Evidence evidence, string classifierLabel) =>
        VerdictPolicy.MergeImage(
            new ImageScore(0, "x.jpg", "00", null, 0.2, "m/1", null, false, null, [evidence]) { ClassifierLabel = classifierLabel },
            new JobMetadata(),
            new VerdictOptions());

    private static byte[] Signature(byte[] file)
    {
        byte[] store = Assert.IsType<byte[]>(MetadataBlocks.Scan(file, ProvenanceLimits.Default).Jumbf);
        return Assert.NotNull(C2paManifest.Parse(store, ProvenanceLimits.Default).Signed?.Signature).ToArray();
    }

    internal static Evidence Claim(byte[] file, C2paTrustList? trust = null) =>
        Assert.Single(ProvenanceReader.Read(file, trust: trust), e => e.Signal is EvidenceSignals.C2pa or EvidenceSignals.C2paBroken);

    internal static string State(Evidence evidence)
    {
        const string Prefix = "(verification: ";
        int at = evidence.Detail.LastIndexOf(Prefix, StringComparison.Ordinal);
        Assert.True(at >= 0, evidence.Detail);
        return evidence.Detail[(at + Prefix.Length)..^1];
    }
}
