using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;
using System.Security.Cryptography.X509Certificates;

namespace ArtGrid.Imaging.Provenance;

/// <summary>What checking one C2PA claim found: a state of <see cref="C2paVerificationStates"/> and, for some, why.</summary>
public sealed record C2paVerification(string State, string? Reason = null)
{
    /// <summary>The state as evidence details end with it: "unverifiable (Ed25519 …)", "untrusted signer (…)".</summary>
    public string Text => Reason is null ? State : $"{State} ({Reason})";

    /// <summary>An invalid signature or a hash that does not match: the manifest is broken, its claim no evidence.</summary>
    public bool Broken => State is C2paVerificationStates.SignatureInvalid or C2paVerificationStates.HashMismatch;

    // Worst first: a broken manifest, then one that could not be checked, then one whose signer is not known.
    internal int Rank => State switch
    {
        C2paVerificationStates.SignatureInvalid => 0,
        C2paVerificationStates.HashMismatch => 1,
        C2paVerificationStates.Unverifiable => 2,
        C2paVerificationStates.UntrustedSigner => 3,
        C2paVerificationStates.TrustListNotConfigured => 4,
        _ => 5,
    };

    internal static C2paVerification Worst(C2paVerification a, C2paVerification b) => b.Rank < a.Rank ? b : a;
}

/// <summary>
/// Trust anchors for C2PA signers: root (or intermediate) certificates in PEM, read from one file or every <c>.pem</c>,
/// <c>.crt</c> and <c>.cer</c> file of a folder. A signer is trusted when its certificate chains to one of them.
/// </summary>
public sealed class C2paTrustList
{
    private C2paTrustList(X509Certificate2Collection anchors, DateTimeOffset? verificationTime = null)
    {
        Anchors = anchors;
        VerificationTime = verificationTime;
    }

    public X509Certificate2Collection Anchors { get; }

    /// <summary>
    /// When the signer's certificates must be valid; null (the default) is the time of the check. Time-stamps in a
    /// claim are not read, so a claim whose signer's certificate has since expired is "untrusted signer (…NotTimeValid)".
    /// </summary>
    public DateTimeOffset? VerificationTime { get; }

    /// <summary>The same anchors, with certificates checked as of <paramref name="time"/>.</summary>
    public C2paTrustList At(DateTimeOffset time) => new(Anchors, time);

    public static C2paTrustList FromCertificates(IEnumerable<X509Certificate2> anchors) => new([.. anchors]);

    /// <summary>The value of <c>C2paTrustAnchors</c> that turns trust anchors off: no claim is then "verified".</summary>
    public const string NoneOption = "none";

    /// <summary>
    /// The trust list that ships with ArtGrid: the C2PA Conformance Program's (c2pa-trust/C2PA-TRUST-LIST.pem beside the
    /// program; its source, commit and licence in the README there).
    /// </summary>
    public static string ShippedPath => Path.Combine(AppContext.BaseDirectory, "c2pa-trust", "C2PA-TRUST-LIST.pem");

    /// <summary>
    /// The anchors the <c>C2paTrustAnchors</c> option names: unset, the shipped list (<see cref="ShippedPath"/>); empty or
    /// "none", no anchors (null); otherwise the PEM file or folder at that path, as <see cref="Load"/> reads it.
    /// </summary>
    public static C2paTrustList? FromOption(string? option) => option switch
    {
        null => Load(ShippedPath),
        _ when string.IsNullOrWhiteSpace(option) || option.Trim().Equals(NoneOption, StringComparison.OrdinalIgnoreCase) => null,
        _ => Load(option),
    };

    /// <summary>
    /// The anchors at <paramref name="path"/> (a PEM file or a folder of them); null when no path is configured. Throws
    /// <see cref="InvalidOperationException"/> when the path is configured but holds no certificate: a trust list that
    /// silently trusts nothing would read as "untrusted" for every signer.
    /// </summary>
    public static C2paTrustList? Load(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        string[] files = Directory.Exists(path)
            ? [.. Directory.EnumerateFiles(path).Where(f => Path.GetExtension(f).ToLowerInvariant() is ".pem" or ".crt" or ".cer").Order(StringComparer.Ordinal)]
            : File.Exists(path) ? [path] : throw new InvalidOperationException($"C2PA trust anchors: '{path}' is neither a file nor a folder");
        var anchors = new X509Certificate2Collection();
        foreach (string file in files)
        {
            try
            {
                anchors.ImportFromPemFile(file);
            }
            catch (CryptographicException ex)
            {
                throw new InvalidOperationException($"C2PA trust anchors: '{file}' is not PEM certificates: {ex.Message}", ex);
            }
        }

        return anchors.Count > 0 ? new C2paTrustList(anchors) : throw new InvalidOperationException($"C2PA trust anchors: no certificate in '{path}'");
    }
}

/// <summary>
/// Checks a C2PA claim with what .NET has, as the C2PA specification's validation asks, in this order: the claim
/// signature (a COSE_Sign1 whose detached payload is the claim's CBOR, checked with <c>System.Security.Cryptography.Cose</c>
/// against the signer certificate of its <c>x5chain</c> header), the hash of every assertion the claim lists, the
/// file's hard binding (<c>c2pa.hash.data</c>: the file's bytes minus the excluded ranges; <c>c2pa.hash.boxes</c>: runs of
/// the file's top-level boxes, in a JPEG or a PNG, see <see cref="C2paBoxMap"/>), then the signer's chain
/// (<see cref="X509Chain"/> to the configured anchors, revocation not checked: no network). Never throws on what the
/// file holds: a malformed structure is a state.
/// </summary>
public static class C2paVerifier
{
    private const int MaxExclusions = 1024;
    private const int MaxCertificates = 16;

    // COSE algorithm identifiers (RFC 9053) that C2PA allows.
    private const int Es256 = -7, Es384 = -35, Es512 = -36, Ps256 = -37, Ps384 = -38, Ps512 = -39, EdDsa = -8;

    /// <summary>
    /// Verifies <paramref name="manifest"/>'s claim; with <paramref name="file"/>, its hard binding too (only the active
    /// manifest's binding is to this file; an ingredient's is to the file it was made from).
    /// </summary>
    public static C2paVerification Verify(C2paManifest manifest, ReadOnlySpan<byte> file, bool checkBinding, C2paTrustList? trust, ProvenanceLimits limits)
    {
        if (manifest.Signed is not { } signed)
        {
            return Unverifiable("no claim");
        }

        if (signed.Signature is not { } signature)
        {
            return Unverifiable("no claim signature");
        }

        (C2paVerification? signatureState, X509Certificate2[] chain) = CheckSignature(signature, signed.Claim);
        try
        {
            if (signatureState is not null)
            {
                return signatureState;
            }

            if (CborValue.Read(signed.Claim, limits.MaxTextBytes, keepBytes: true) is not Dictionary<string, object?> claim)
            {
                return Unverifiable("the claim is not a CBOR map");
            }

            if (CheckAssertions(claim, signed) is { } assertionState)
            {
                return assertionState;
            }

            if (checkBinding && CheckBinding(claim, signed, file, limits) is { } bindingState)
            {
                return bindingState;
            }

            return CheckSigner(chain, trust);
        }
        catch (InvalidDataException ex)
        {
            // A signed claim or data hash whose CBOR is malformed or over the limits: nothing to check it against.
            return Unverifiable(ex.Message);
        }
        finally
        {
            foreach (X509Certificate2 certificate in chain)
            {
                certificate.Dispose();
            }
        }
    }

    private static (C2paVerification? State, X509Certificate2[] Chain) CheckSignature(ReadOnlyMemory<byte> signature, ReadOnlyMemory<byte> claim)
    {
        CoseSign1Message message;
        try
        {
            // Tagged (18) or untagged: DecodeSign1 reads both.
            message = CoseMessage.DecodeSign1(signature.Span);
        }
        catch (Exception ex) when (ex is CryptographicException or CborContentException or InvalidOperationException or ArgumentException)
        {
            return (new C2paVerification(C2paVerificationStates.SignatureInvalid, "malformed COSE_Sign1: " + ex.Message), []);
        }

        if (!message.ProtectedHeaders.TryGetValue(CoseHeaderLabel.Algorithm, out CoseHeaderValue algorithmValue))
        {
            return (new C2paVerification(C2paVerificationStates.SignatureInvalid, "no algorithm in the protected header"), []);
        }

        int algorithm;
        try
        {
            algorithm = algorithmValue.GetValueAsInt32();
        }
        catch (Exception ex) when (ex is InvalidOperationException or CborContentException)
        {
            return (Unverifiable("a COSE algorithm named by text"), []);
        }

        X509Certificate2[] chain;
        try
        {
            chain = ReadChain(message);
        }
        catch (Exception ex) when (ex is CryptographicException or CborContentException or InvalidOperationException or InvalidDataException)
        {
            return (new C2paVerification(C2paVerificationStates.SignatureInvalid, "unreadable x5chain: " + ex.Message), []);
        }

        if (chain.Length == 0)
        {
            return (new C2paVerification(C2paVerificationStates.SignatureInvalid, "no signer certificate (x5chain)"), chain);
        }

        X509Certificate2 signer = chain[0];
        AsymmetricAlgorithm? key;
        try
        {
            switch (algorithm)
            {
                case Es256 or Es384 or Es512:
                    key = signer.GetECDsaPublicKey();
                    break;
                case Ps256 or Ps384 or Ps512:
                    key = RsaKey(signer);
                    break;
                case EdDsa:
                    // System.Security.Cryptography.Cose 10.0 verifies ECDSA and RSA (PSS and PKCS#1) only: .NET has no Ed25519.
                    return (Unverifiable("Ed25519 signature: .NET's COSE has no EdDSA"), chain);
                default:
                    return (Unverifiable($"COSE algorithm {algorithm}"), chain);
            }
        }
        catch (CryptographicException ex)
        {
            // A certificate that parses but whose public key does not (found by fuzz/run.sh c2pa): OpenSSL refuses the key
            // only when it is asked for it.
            return (new C2paVerification(C2paVerificationStates.SignatureInvalid, "the signer's public key is unreadable: " + ex.Message), chain);
        }

        using (key)
        {
            if (key is null)
            {
                return (new C2paVerification(C2paVerificationStates.SignatureInvalid, "the signer's key does not match the algorithm"), chain);
            }

            try
            {
                return (message.VerifyDetached(key, claim.Span) ? null : new C2paVerification(C2paVerificationStates.SignatureInvalid), chain);
            }
            catch (Exception ex) when (ex is CryptographicException or InvalidOperationException or ArgumentException)
            {
                return (new C2paVerification(C2paVerificationStates.SignatureInvalid, ex.Message), chain);
            }
        }
    }

    // x5chain (label 33): one certificate as a byte string, or an array of them, signer first; in the protected header
    // (C2PA 1.x writers put it in the unprotected one, which C2PA 2 still reads).
    private static X509Certificate2[] ReadChain(CoseSign1Message message)
    {
        // Early C2PA writers (c2pa-rs before 0.3x, as in ChatGPT's and Image Creator's files) label it with the text
        // "x5chain" instead of 33.
        CoseHeaderValue value = default;
        bool found = false;
        foreach (CoseHeaderLabel label in new[] { new CoseHeaderLabel(33), new CoseHeaderLabel("x5chain") })
        {
            if (message.ProtectedHeaders.TryGetValue(label, out value) || message.UnprotectedHeaders.TryGetValue(label, out value))
            {
                found = true;
                break;
            }
        }

        if (!found)
        {
            return [];
        }

        var reader = new CborReader(value.EncodedValue, CborConformanceMode.Lax);
        var certificates = new List<X509Certificate2>();
        try
        {
            if (reader.PeekState() == CborReaderState.ByteString)
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(reader.ReadByteString()));
            }
            else
            {
                int? count = reader.ReadStartArray();
                while (reader.PeekState() != CborReaderState.EndArray)
                {
                    if (certificates.Count >= MaxCertificates || count > MaxCertificates)
                    {
                        throw new InvalidDataException($"more than {MaxCertificates} certificates");
                    }

                    certificates.Add(X509CertificateLoader.LoadCertificate(reader.ReadByteString()));
                }
            }
        }
        catch
        {
            certificates.ForEach(c => c.Dispose());
            throw;
        }

        return [.. certificates];
    }

    // Every assertion the claim lists (v1 "assertions", v2 "created_assertions" and "gathered_assertions") must be in the
    // manifest and hash to what the claim says: the hash of its superbox's payload (description and content boxes).
    private static C2paVerification? CheckAssertions(Dictionary<string, object?> claim, C2paSignedParts signed)
    {
        string defaultAlgorithm = claim.GetValueOrDefault("alg") as string ?? "sha256";
        IEnumerable<object?> references = new[] { "assertions", "created_assertions", "gathered_assertions" }
            .SelectMany(key => claim.GetValueOrDefault(key) as List<object?> ?? []);
        foreach (Dictionary<string, object?> reference in references.OfType<Dictionary<string, object?>>())
        {
            if (reference.GetValueOrDefault("url") is not string url || reference.GetValueOrDefault("hash") is not byte[] expected)
            {
                return new C2paVerification(C2paVerificationStates.HashMismatch, "an assertion reference without url or hash");
            }

            string label = url[(url.LastIndexOf('/') + 1)..];
            if (!signed.Assertions.TryGetValue(label, out C2paAssertionBox? box))
            {
                return new C2paVerification(C2paVerificationStates.HashMismatch, $"assertion {label} missing");
            }

            string algorithm = reference.GetValueOrDefault("alg") as string ?? defaultAlgorithm;
            if (Hash(algorithm, box.Payload.Span) is not { } actual)
            {
                return Unverifiable($"hash algorithm '{algorithm}'");
            }

            if (!CryptographicOperations.FixedTimeEquals(actual, expected))
            {
                return new C2paVerification(C2paVerificationStates.HashMismatch, $"in assertion {label}");
            }
        }

        return null;
    }

    // The hard binding: c2pa.hash.data (every byte of the file but the excluded ranges, in order) and c2pa.hash.boxes
    // (the hash of each run of named top-level boxes) are checked; a box hash in a container other than JPEG and PNG, a
    // BMFF or a collection hash is not, and says so.
    private static C2paVerification? CheckBinding(Dictionary<string, object?> claim, C2paSignedParts signed, ReadOnlySpan<byte> file, ProvenanceLimits limits)
    {
        string defaultAlgorithm = claim.GetValueOrDefault("alg") as string ?? "sha256";
        string? other = null;
        bool checkedOne = false;
        foreach ((string label, C2paAssertionBox box) in signed.Assertions)
        {
            string name = label.IndexOf("__", StringComparison.Ordinal) is var i and > 0 ? label[..i] : label;
            if (name is not ("c2pa.hash.data" or "c2pa.hash.boxes"))
            {
                if (name.StartsWith("c2pa.hash.", StringComparison.Ordinal))
                {
                    other ??= name;
                }

                continue;
            }

            if (box.Content is not { } content || CborValue.Read(content, limits.MaxTextBytes, keepBytes: true) is not Dictionary<string, object?> data)
            {
                return new C2paVerification(C2paVerificationStates.HashMismatch, $"{name} is not a CBOR map");
            }

            C2paVerification? state = name == "c2pa.hash.data" ? CheckDataHash(data, file, defaultAlgorithm) : CheckBoxHash(data, file, defaultAlgorithm);
            if (state is not null)
            {
                return state;
            }

            checkedOne = true;
        }

        return checkedOne ? null : Unverifiable(other is null ? "no hard binding" : $"{other} not checked");
    }

    private static C2paVerification? CheckDataHash(Dictionary<string, object?> data, ReadOnlySpan<byte> file, string defaultAlgorithm)
    {
        if (data.GetValueOrDefault("hash") is not byte[] expected)
        {
            return new C2paVerification(C2paVerificationStates.HashMismatch, "a data hash without a hash");
        }

        string algorithm = data.GetValueOrDefault("alg") as string ?? defaultAlgorithm;
        if (HashAlgorithm(algorithm) is not { } hashAlgorithm)
        {
            return Unverifiable($"hash algorithm '{algorithm}'");
        }

        if (HashExcluding(file, data.GetValueOrDefault("exclusions") as List<object?> ?? [], hashAlgorithm) is not { } actual)
        {
            return new C2paVerification(C2paVerificationStates.HashMismatch, "the data hash's exclusions do not fit the file");
        }

        return CryptographicOperations.FixedTimeEquals(actual, expected) ? null : new C2paVerification(C2paVerificationStates.HashMismatch);
    }

    // A box hash: a list of {names, hash, alg?, excluded?, pad}. Each entry's names take the file's next boxes in order
    // (C2paBoxMap names them); its hash is over the bytes from the first of them to the end of the last. The C2PA store's
    // own box is listed alone and not hashed, nor is an entry marked excluded; "pad" is filler a writer reserves to
    // rewrite the assertion in place, not hashed. As c2pa-rs checks it: a PNG's signature ("PNGh") may be left out of the
    // list, and boxes after the last one listed are not checked.
    private static C2paVerification? CheckBoxHash(Dictionary<string, object?> data, ReadOnlySpan<byte> file, string defaultAlgorithm)
    {
        if (data.GetValueOrDefault("boxes") is not List<object?> { Count: > 0 } entries)
        {
            return new C2paVerification(C2paVerificationStates.HashMismatch, "a box hash without boxes");
        }

        if (C2paBoxMap.Map(file) is not { Count: > 0 } map)
        {
            return Unverifiable($"c2pa.hash.boxes not checked in {C2paBoxMap.ContainerName(file)}");
        }

        int index = 0;
        if (map[0].Name == "PNGh" && entries[0] is Dictionary<string, object?> first && (first.GetValueOrDefault("names") as List<object?>)?.FirstOrDefault() is string firstName && firstName != "PNGh")
        {
            index = 1;
        }

        string assertionAlgorithm = data.GetValueOrDefault("alg") as string ?? defaultAlgorithm;
        foreach (object? item in entries)
        {
            if (item is not Dictionary<string, object?> entry || entry.GetValueOrDefault("names") is not List<object?> { Count: > 0 } names
                || entry.GetValueOrDefault("hash") is not byte[] expected)
            {
                return new C2paVerification(C2paVerificationStates.HashMismatch, "a box hash entry without names or hash");
            }

            long start = -1, end = -1;
            bool store = false;
            foreach (object? listed in names)
            {
                if (index >= map.Count || listed is not string boxName || map[index].Name != boxName)
                {
                    return new C2paVerification(C2paVerificationStates.HashMismatch, $"box '{listed}' is not the file's next box ({(index < map.Count ? map[index].Name : "none left")})");
                }

                if (start < 0)
                {
                    start = map[index].Start;
                    store = boxName == C2paBoxMap.C2paBoxName;
                    if (store && names.Count != 1)
                    {
                        return new C2paVerification(C2paVerificationStates.HashMismatch, "the C2PA box listed with others");
                    }
                }

                end = map[index].End;
                index++;
            }

            if (store || entry.GetValueOrDefault("excluded") is true)
            {
                continue;
            }

            string algorithm = entry.GetValueOrDefault("alg") as string ?? assertionAlgorithm;
            if (Hash(algorithm, file[(int)start..(int)end]) is not { } actual)
            {
                return Unverifiable($"hash algorithm '{algorithm}'");
            }

            if (!CryptographicOperations.FixedTimeEquals(actual, expected))
            {
                return new C2paVerification(C2paVerificationStates.HashMismatch, $"in boxes {string.Join(' ', names)}");
            }
        }

        return null;
    }

    // The file's bytes in order, each excluded range (start, length) left out; null when a range is out of order or
    // runs past the end (the file is not the one hashed).
    private static byte[]? HashExcluding(ReadOnlySpan<byte> file, List<object?> exclusions, HashAlgorithmName algorithm)
    {
        if (exclusions.Count > MaxExclusions)
        {
            return null;
        }

        using var hash = IncrementalHash.CreateHash(algorithm);
        long position = 0;
        foreach (object? exclusion in exclusions)
        {
            if (exclusion is not Dictionary<string, object?> range || range.GetValueOrDefault("start") is not long start || range.GetValueOrDefault("length") is not long length
                || start < position || length < 0 || start > file.Length || length > file.Length - start)
            {
                return null;
            }

            hash.AppendData(file[(int)position..(int)start]);
            position = start + length;
        }

        hash.AppendData(file[(int)position..]);
        return hash.GetHashAndReset();
    }

    private static C2paVerification CheckSigner(X509Certificate2[] chain, C2paTrustList? trust)
    {
        if (trust is null)
        {
            return new C2paVerification(C2paVerificationStates.TrustListNotConfigured);
        }

        using var builder = new X509Chain();
        builder.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        builder.ChainPolicy.CustomTrustStore.AddRange(trust.Anchors);
        builder.ChainPolicy.ExtraStore.AddRange(chain[1..]);
        builder.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        builder.ChainPolicy.DisableCertificateDownloads = true;
        if (trust.VerificationTime is { } time)
        {
            builder.ChainPolicy.VerificationTime = time.UtcDateTime;
        }
        try
        {
            if (builder.Build(chain[0]))
            {
                return new C2paVerification(C2paVerificationStates.Verified);
            }
        }
        catch (CryptographicException ex)
        {
            return new C2paVerification(C2paVerificationStates.UntrustedSigner, ex.Message);
        }

        string status = string.Join(", ", builder.ChainStatus.Select(s => s.Status.ToString()).Distinct());
        return new C2paVerification(C2paVerificationStates.UntrustedSigner, $"{Subject(chain[0])}: {status}");
    }

    // An RSA key, whether its certificate names it rsaEncryption or id-RSASSA-PSS (as c2pa-rs's PS256 test signers do,
    // and which GetRSAPublicKey does not read): both hold an RSAPublicKey.
    private static RSA? RsaKey(X509Certificate2 certificate)
    {
        if (certificate.GetRSAPublicKey() is { } rsa)
        {
            return rsa;
        }

        if (certificate.PublicKey.Oid.Value != "1.2.840.113549.1.1.10")
        {
            return null;
        }

        var pss = RSA.Create();
        try
        {
            pss.ImportRSAPublicKey(certificate.PublicKey.EncodedKeyValue.RawData, out _);
            return pss;
        }
        catch (CryptographicException)
        {
            pss.Dispose();
            return null;
        }
    }

    private static string Subject(X509Certificate2 certificate) =>
        certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } name ? name : certificate.Subject;

    private static byte[]? Hash(string algorithm, ReadOnlySpan<byte> data) => HashAlgorithm(algorithm) switch
    {
        { } name when name == HashAlgorithmName.SHA256 => SHA256.HashData(data),
        { } name when name == HashAlgorithmName.SHA384 => SHA384.HashData(data),
        { } name when name == HashAlgorithmName.SHA512 => SHA512.HashData(data),
        _ => null,
    };

    private static HashAlgorithmName? HashAlgorithm(string algorithm) => algorithm switch
    {
        "sha256" => HashAlgorithmName.SHA256,
        "sha384" => HashAlgorithmName.SHA384,
        "sha512" => HashAlgorithmName.SHA512,
        _ => null,
    };

    private static C2paVerification Unverifiable(string reason) => new(C2paVerificationStates.Unverifiable, reason);
}
