namespace ArtGrid;

/// <summary>
/// One piece of provenance evidence found in an image file: which signal, how strong, what it says, and which way it
/// points. Extractors never throw: a malformed block becomes an <see cref="EvidenceSignals.Unreadable"/> entry.
/// </summary>
[GenerateSerializer, Immutable, Alias("artgrid.Evidence")]
public sealed record Evidence(
    [property: Id(0)] string Signal,
    [property: Id(1)] string Strength,
    [property: Id(2)] string Detail,
    [property: Id(3)] string Indicates);

/// <summary>Signal names, as in the output.</summary>
public static class EvidenceSignals
{
    public const string C2pa = "c2pa";
    public const string A1111Parameters = "a1111-parameters";
    public const string ComfyUiWorkflow = "comfyui-workflow";
    public const string InvokeAi = "invokeai";
    public const string NovelAi = "novelai";

    /// <summary>AUTOMATIC1111's parameters text hidden in the pixels' least significant bits (the stealth-pnginfo extension).</summary>
    public const string A1111Stealth = "a1111-stealth";

    /// <summary>Stealth metadata in the pixels' least significant bits that names no generator.</summary>
    public const string StealthPngInfo = "stealth-pnginfo";

    public const string Fooocus = "fooocus";
    public const string SwarmUi = "swarmui";
    public const string DrawThings = "draw-things";
    public const string ExifUserComment = "exif-usercomment";
    public const string ExifSoftware = "exif-software";
    public const string SdWatermark = "sd-watermark";

    /// <summary>
    /// A C2PA manifest whose claim signature is invalid or whose hashes do not match (the file or an assertion edited
    /// after signing): reported for itself, and what its claim says is not evidence.
    /// </summary>
    public const string C2paBroken = "c2pa-broken";

    /// <summary>A metadata block that is there but cannot be read (truncated, malformed, over a limit).</summary>
    public const string Unreadable = "unreadable";

    /// <summary>IPTC digital source types are reported as "iptc-{value}", e.g. "iptc-trainedAlgorithmicMedia".</summary>
    public static string Iptc(string digitalSourceType) => "iptc-" + digitalSourceType;
}

public static class EvidenceStrength
{
    /// <summary>Decides the verdict under the default policy (a generator's own settings, a C2PA or IPTC AI source type).</summary>
    public const string Strong = "strong";

    /// <summary>Points one way but can be forged or misread cheaply (a Software tag naming a generator).</summary>
    public const string Moderate = "moderate";

    /// <summary>Context only.</summary>
    public const string Weak = "weak";
}

public static class EvidenceDirection
{
    public const string Ai = "ai";
    public const string Human = "human";
    public const string Unknown = "unknown";
}

/// <summary>
/// What checking a C2PA claim found, as the end of a <c>c2pa</c> or <c>c2pa-broken</c> evidence detail says it:
/// <c>(verification: verified)</c>, <c>(verification: unverified (trust list not configured))</c>, ….
/// </summary>
public static class C2paVerificationStates
{
    /// <summary>Signature valid, every hash matching, the signer's certificate chaining to a configured trust anchor.</summary>
    public const string Verified = "verified";

    public const string SignatureInvalid = "signature invalid";

    /// <summary>The file's bytes (its hard binding) or an assertion no longer hash to what the claim signed.</summary>
    public const string HashMismatch = "hash mismatch (edited after signing)";

    /// <summary>Signature and hashes check, but no trust anchors are configured, so who signed is not known.</summary>
    public const string TrustListNotConfigured = "unverified (trust list not configured)";

    /// <summary>Signature and hashes check, but the signer's certificate does not chain to a configured anchor.</summary>
    public const string UntrustedSigner = "untrusted signer";

    /// <summary>Followed by the reason in parentheses: an algorithm .NET cannot check, a hard binding not checked, ….</summary>
    public const string Unverifiable = "unverifiable";

    private const string Prefix = "(verification: ";

    /// <summary>The text that ends a detail for <paramref name="state"/>.</summary>
    public static string Suffix(string state) => $" {Prefix}{state})";

    /// <summary>Whether the detail of <paramref name="evidence"/> says its claim was verified.</summary>
    public static bool IsVerified(Evidence evidence) => evidence.Detail.EndsWith(Suffix(Verified), StringComparison.Ordinal);
}
