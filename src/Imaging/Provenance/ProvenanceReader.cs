using System.Text.Json;
using System.Text.RegularExpressions;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.IO;

namespace ArtGrid.Imaging.Provenance;

/// <summary>
/// Reads what an image file says about where it came from, without decoding pixels: C2PA manifests (their ingredient
/// chain followed), IPTC/XMP digital source types, generator settings (AUTOMATIC1111/Forge, ComfyUI, InvokeAI, NovelAI,
/// Fooocus, SwarmUI, Draw Things) in PNG text chunks, EXIF or XMP, and EXIF Software. Never throws: a block it cannot
/// read becomes an "unreadable" entry.
/// </summary>
public static partial class ProvenanceReader
{
    private const int DetailLength = 160;

    /// <param name="trust">Trust anchors for C2PA signers; without them a valid claim is "unverified (trust list not configured)".</param>
    public static IReadOnlyList<Evidence> Read(ReadOnlySpan<byte> file, ProvenanceLimits? limits = null, C2paTrustList? trust = null)
    {
        limits ??= ProvenanceLimits.Default;
        var evidence = new List<Evidence>();
        MetadataBlocks blocks;
        try
        {
            blocks = MetadataBlocks.Scan(file, limits);
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or InvalidDataException)
        {
            return [Unreadable("container: " + ex.Message)];
        }

        foreach ((string key, string text) in blocks.Texts)
        {
            AddText(evidence, key, text, "PNG text");
        }

        foreach (byte[] exif in blocks.Exif)
        {
            AddExif(evidence, exif);
        }

        foreach (string xmp in blocks.Xmp)
        {
            AddXmp(evidence, xmp, "XMP");
        }

        if (blocks.Jumbf is { } jumbf)
        {
            AddC2pa(evidence, jumbf, file, limits, trust);
        }
        else if (blocks.Xmp.Concat(blocks.Texts.Where(t => t.Key == "XML:com.adobe.xmp").Select(t => t.Text)).Select(x => RemoteManifest().Match(x)).FirstOrDefault(m => m.Success) is { } remote)
        {
            // A manifest kept outside the file (C2PA's remote manifest: XMP dcterms:provenance) is not fetched: ArtGrid
            // reads only what the file holds, and a URL is no claim.
            evidence.Add(new Evidence(EvidenceSignals.C2pa, EvidenceStrength.Weak, $"C2PA manifest stored outside the file at {Clip(remote.Groups["url"].Value)} (not fetched)", EvidenceDirection.Unknown));
        }

        evidence.AddRange(blocks.Problems.Select(Unreadable));
        return Deduplicate(evidence);
    }

    private static void AddText(List<Evidence> evidence, string key, string text, string where)
    {
        string trimmed = text.TrimStart();
        switch (key.ToLowerInvariant())
        {
            case "parameters" when LooksLikeA1111(text):
                evidence.Add(Ai(EvidenceSignals.A1111Parameters, $"{where} '{key}': {SettingsLine(text)}"));
                break;
            case "parameters" when NamedSettings(trimmed) is { } named:
                evidence.Add(Ai(named.Signal, $"{where} '{key}': {named.Detail}"));
                break;
            case "fooocus_scheme":
                evidence.Add(Ai(EvidenceSignals.Fooocus, $"{where} '{key}': Fooocus metadata scheme '{Clip(text)}'"));
                break;
            case "prompt" or "workflow" when LooksLikeComfyUi(trimmed):
                evidence.Add(Ai(EvidenceSignals.ComfyUiWorkflow, $"{where} '{key}': ComfyUI {(key.Equals("workflow", StringComparison.OrdinalIgnoreCase) ? "workflow" : "prompt graph")} ({text.Length} characters)"));
                break;
            case "invokeai_metadata" or "invokeai_graph" or "sd-metadata" or "dream":
                evidence.Add(Ai(EvidenceSignals.InvokeAi, $"{where} '{key}': {Clip(text)}"));
                break;
            case "software" when text.Contains("NovelAI", StringComparison.OrdinalIgnoreCase):
                evidence.Add(Ai(EvidenceSignals.NovelAi, $"{where} 'Software': {Clip(text)}"));
                break;
            case "comment" when trimmed.StartsWith('{') && (text.Contains("\"steps\"", StringComparison.Ordinal) || text.Contains("\"sampler\"", StringComparison.Ordinal)):
                evidence.Add(Ai(EvidenceSignals.NovelAi, $"{where} 'Comment': generation settings ({text.Length} characters)"));
                break;
            case "xml:com.adobe.xmp":
                AddXmp(evidence, text, "PNG XMP");
                break;
        }
    }

    private static void AddExif(List<Evidence> evidence, byte[] exif)
    {
        IEnumerable<MetadataExtractor.Directory> directories;
        try
        {
            directories = new ExifReader().Extract(new ByteArrayReader(exif));
        }
        catch (Exception ex) when (ex is ImageProcessingException or IOException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            evidence.Add(Unreadable("EXIF: " + ex.Message));
            return;
        }

        foreach (MetadataExtractor.Directory directory in directories)
        {
            // A maker note is the camera maker's own format, with its own tag numbers (metadata-extractor cannot read
            // every Apple one): it holds nothing ArtGrid reads, and its errors are not the file's.
            if (directory.Name.Contains("Makernote", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (directory.HasError)
            {
                evidence.Add(Unreadable($"EXIF {directory.Name}: {string.Join("; ", directory.Errors)}"));
            }

            foreach (Tag tag in directory.Tags)
            {
                string? value;
                try
                {
                    value = tag.Type switch
                    {
                        ExifDirectoryBase.TagUserComment => DecodeUserComment(directory.GetByteArray(tag.Type)) ?? directory.GetDescription(tag.Type),
                        ExifDirectoryBase.TagSoftware or ExifDirectoryBase.TagImageDescription or ExifDirectoryBase.TagMake or ExifDirectoryBase.TagModel => directory.GetDescription(tag.Type),
                        _ => null,
                    };
                }
                catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or FormatException)
                {
                    evidence.Add(Unreadable($"EXIF {tag.Name}: {ex.Message}"));
                    continue;
                }

                if (string.IsNullOrWhiteSpace(value))
                {
                    continue;
                }

                AddExifText(evidence, tag, value);
            }
        }
    }

    private static void AddExifText(List<Evidence> evidence, Tag tag, string value)
    {
        string trimmed = value.TrimStart();
        switch (tag.Type)
        {
            case ExifDirectoryBase.TagUserComment when IsComfyUiSave(trimmed):
                // {"prompt": {graph}, "workflow": {...}}: what ComfyUI's JPEG/WebP savers write.
                evidence.Add(Ai(EvidenceSignals.ComfyUiWorkflow, $"EXIF UserComment: ComfyUI prompt and workflow ({value.Length} characters)"));
                break;
            case ExifDirectoryBase.TagUserComment when HoldsGenerationSettings(value, trimmed):
                evidence.Add(Ai(EvidenceSignals.ExifUserComment, $"EXIF UserComment: {(LooksLikeA1111(value) ? SettingsLine(value) : Clip(value))}"));
                if (value.Contains("NovelAI", StringComparison.OrdinalIgnoreCase))
                {
                    evidence.Add(Ai(EvidenceSignals.NovelAi, $"EXIF UserComment: NovelAI settings ({value.Length} characters)"));
                }
                else if (NamedSettings(trimmed) is { } named)
                {
                    evidence.Add(Ai(named.Signal, $"EXIF UserComment: {named.Detail}"));
                }

                break;
            case ExifDirectoryBase.TagImageDescription or ExifDirectoryBase.TagMake or ExifDirectoryBase.TagModel
                when ComfyPrefix().Match(trimmed) is { Success: true } match && LooksLikeComfyUi(trimmed[match.Length..].TrimStart()):
                // ComfyUI savers for JPEG/WebP write "Workflow: {...}" and "Prompt: {...}" into these tags.
                evidence.Add(Ai(EvidenceSignals.ComfyUiWorkflow, $"EXIF {tag.Name}: ComfyUI {match.Groups[1].Value.ToLowerInvariant()} ({value.Length} characters)"));
                break;
            case ExifDirectoryBase.TagSoftware when value.Contains("NovelAI", StringComparison.OrdinalIgnoreCase):
                evidence.Add(Ai(EvidenceSignals.NovelAi, $"EXIF Software: {Clip(value)}"));
                break;
            case ExifDirectoryBase.TagSoftware when KnownGenerator().IsMatch(value):
                evidence.Add(new Evidence(EvidenceSignals.ExifSoftware, EvidenceStrength.Moderate, $"EXIF Software: {Clip(value)}", EvidenceDirection.Ai));
                break;
        }
    }

    private static void AddXmp(List<Evidence> evidence, string xmp, string where)
    {
        // Draw Things names itself as the XMP creator tool and puts its settings ({"c": prompt, "sampler", "seed",
        // "steps", …}) in exif:UserComment.
        if (CreatorTool().Match(xmp) is { Success: true } tool && tool.Groups["tool"].Value.StartsWith("Draw Things", StringComparison.Ordinal))
        {
            string comment = XmpUserComment().Match(xmp) is { Success: true } match ? match.Groups["json"].Value : "";
            string settings = comment.Contains("steps", StringComparison.Ordinal) ? " with its generation settings in exif:UserComment" : "";
            evidence.Add(Ai(EvidenceSignals.DrawThings, $"{where} xmp:CreatorTool '{Clip(tool.Groups["tool"].Value)}'{settings}"));
        }

        foreach (Match match in DigitalSourceType().Matches(xmp))
        {
            string type = match.Groups["type"].Value;
            (string strength, string direction) = Classify(type);
            evidence.Add(new Evidence(EvidenceSignals.Iptc(type), strength, $"{where} Iptc4xmpExt:DigitalSourceType {type}", direction));
        }
    }

    /// <summary>
    /// The C2PA claim's evidence, weighed by its verification (<see cref="C2paVerifier"/>): only a verified claim keeps
    /// its strength; a valid but unverified one (no trust list, an unknown signer, something not checkable) is at most
    /// moderate; a broken one (invalid signature, hash mismatch) is reported as <c>c2pa-broken</c>, weak, pointing
    /// nowhere, with what it claimed. A claim found in an ingredient's manifest is as verified as the worse of the
    /// active manifest and that one's own signature.
    /// </summary>
    private static void AddC2pa(List<Evidence> evidence, byte[] jumbf, ReadOnlySpan<byte> file, ProvenanceLimits limits, C2paTrustList? trust)
    {
        C2paManifest manifest;
        try
        {
            manifest = C2paManifest.Parse(jumbf, limits);
        }
        catch (InvalidDataException ex)
        {
            evidence.Add(Unreadable("C2PA: " + ex.Message));
            return;
        }

        C2paVerification verification = C2paVerifier.Verify(manifest, file, checkBinding: true, trust, limits);
        string by = By(manifest);
        (C2paManifest Manifest, string? Relationship, string? Through)[] chain = [.. manifest.WithIngredients()];

        // The first AI source type in the active manifest or, failing that, in its ingredients' manifests (nearest first),
        // then the same for any other source type: a viewer shows an image opened from an AI creation as AI-made.
        if ((FirstSourceType(chain, EvidenceDirection.Ai) ?? FirstSourceType(chain, null)) is { } found)
        {
            string type = found.Type;
            (string strength, string direction) = Classify(type);
            if (found.Relationship is null)
            {
                evidence.Add(Claim(strength, $"C2PA: digitalSourceType {type}{by}{Agent(found.Manifest, type)}", direction, verification));
                return;
            }

            // Opened from it (parentOf), the image is that creation edited; as a placed component or an input it is
            // only part of the image.
            if (found.Relationship != "parentOf" && strength == EvidenceStrength.Strong)
            {
                strength = EvidenceStrength.Moderate;
            }

            verification = C2paVerification.Worst(verification, C2paVerifier.Verify(found.Manifest, file, checkBinding: false, trust, limits));
            string active = manifest.Actions.Count == 0 ? "no actions" : string.Join(", ", manifest.Actions.Distinct().Take(3));
            evidence.Add(Claim(
                strength,
                $"C2PA: digitalSourceType {type}{By(found.Manifest)}{Agent(found.Manifest, type)} from an ingredient ({found.Relationship} '{Clip(found.Through ?? "")}') of the active manifest{by} ({active})",
                direction,
                verification));
            return;
        }

        // No source type anywhere: an older manifest may still say what made the image in a creation's description or
        // agent (Microsoft's Image Creator: "AI Generated Image"). That is free text, not the IPTC vocabulary: moderate.
        if (chain.SelectMany(c => c.Manifest.ActionDetails).FirstOrDefault(a => a.Name == "c2pa.created" && SaysAi(a)) is { } created)
        {
            evidence.Add(Claim(EvidenceStrength.Moderate, $"C2PA manifest{by}: c2pa.created{AgentAndDescription(created)}, no digital source type", EvidenceDirection.Ai, verification));
            return;
        }

        string actions = manifest.Actions.Count == 0 ? "no actions" : "actions " + string.Join(", ", manifest.Actions.Distinct().Take(5));
        string ingredients = chain.Length > 1 ? $", {chain.Length - 1} ingredient manifest{(chain.Length > 2 ? "s" : "")}" : "";
        evidence.Add(Claim(EvidenceStrength.Weak, $"C2PA manifest{by}, {actions}{ingredients}, no digital source type", EvidenceDirection.Unknown, verification));
    }

    private static Evidence Claim(string strength, string detail, string direction, C2paVerification verification)
    {
        detail += C2paVerificationStates.Suffix(Clip(verification.Text));
        if (verification.Broken)
        {
            return new Evidence(EvidenceSignals.C2paBroken, EvidenceStrength.Weak, detail, EvidenceDirection.Unknown);
        }

        bool verified = verification.State == C2paVerificationStates.Verified;
        return new Evidence(EvidenceSignals.C2pa, !verified && strength == EvidenceStrength.Strong ? EvidenceStrength.Moderate : strength, detail, direction);
    }

    private static SourceType? FirstSourceType((C2paManifest Manifest, string? Relationship, string? Through)[] chain, string? direction)
    {
        foreach ((C2paManifest manifest, string? relationship, string? through) in chain)
        {
            if (manifest.DigitalSourceTypes.FirstOrDefault(t => direction is null || Classify(t).Direction == direction) is { } type)
            {
                return new SourceType(manifest, relationship, through, type);
            }
        }

        return null;
    }

    // A digital source type, the manifest that states it, and how that manifest is reached from the active one.
    private sealed record SourceType(C2paManifest Manifest, string? Relationship, string? Through, string Type);

    private static string By(C2paManifest manifest) => manifest.ClaimGenerator is { } generator ? $" by {Clip(generator)}" : "";

    // The tool the creating action names, when it names one: "Adobe Firefly", "DALL·E", "Titan Image Generator G1".
    private static string Agent(C2paManifest manifest, string type) =>
        manifest.ActionDetails.FirstOrDefault(a => a.DigitalSourceType == type && a.SoftwareAgent is not null)?.SoftwareAgent is { } agent ? $" (softwareAgent '{Clip(agent)}')" : "";

    private static string AgentAndDescription(C2paAction action) =>
        (action.SoftwareAgent is { } agent ? $" by '{Clip(agent)}'" : "") + (action.Description is { } description ? $" described '{Clip(description)}'" : "");

    private static bool SaysAi(C2paAction action) =>
        (action.Description is { } description && AiGenerated().IsMatch(description)) || (action.SoftwareAgent is { } agent && KnownGenerator().IsMatch(agent));

    /// <summary>IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/): which way, how strongly.</summary>
    public static (string Strength, string Direction) Classify(string digitalSourceType) => digitalSourceType switch
    {
        "trainedAlgorithmicMedia" or "compositeWithTrainedAlgorithmicMedia" or "algorithmicallyEnhanced" or "algorithmicMedia"
            => (digitalSourceType == "algorithmicallyEnhanced" ? EvidenceStrength.Moderate : EvidenceStrength.Strong, EvidenceDirection.Ai),
        "digitalCapture" or "negativeFilm" or "positiveFilm" or "print" or "humanEdits" or "minorHumanEdits" or "digitalArt" or "dataDrivenMedia"
            => (EvidenceStrength.Moderate, EvidenceDirection.Human),
        _ => (EvidenceStrength.Weak, EvidenceDirection.Unknown),
    };

    /// <summary>
    /// EXIF UserComment: an 8-byte character code, then the text. Generators write "UNICODE" text in either byte order
    /// whatever the file's own (A1111 and Civitai write big-endian UTF-16 into little-endian files), so the order is
    /// taken from the text itself: generation settings are mostly ASCII, whose high bytes are zero.
    /// </summary>
    internal static string? DecodeUserComment(byte[]? raw)
    {
        if (raw is null || raw.Length <= 8)
        {
            return null;
        }

        ReadOnlySpan<byte> code = raw.AsSpan(0, 8);
        ReadOnlySpan<byte> text = raw.AsSpan(8);
        if (code.StartsWith("UNICODE"u8))
        {
            int evenZeros = 0, oddZeros = 0;
            for (int i = 0; i + 1 < Math.Min(text.Length, 4096); i += 2)
            {
                evenZeros += text[i] == 0 ? 1 : 0;
                oddZeros += text[i + 1] == 0 ? 1 : 0;
            }

            string decoded = (evenZeros >= oddZeros ? System.Text.Encoding.BigEndianUnicode : System.Text.Encoding.Unicode).GetString(text[..(text.Length & ~1)]);
            return decoded.TrimStart('\uFEFF').Split('\0')[0];
        }

        return code.StartsWith("ASCII"u8) || code.SequenceEqual(new byte[8])
            ? System.Text.Encoding.UTF8.GetString(text).Split('\0')[0]
            : null;
    }

    internal static bool LooksLikeA1111(string text) =>
        text.Contains("Steps: ", StringComparison.Ordinal) && (text.Contains("Sampler: ", StringComparison.Ordinal) || text.Contains("Seed: ", StringComparison.Ordinal));

    // A ComfyUI workflow ({"nodes": [...]}) or prompt graph ({"3": {"class_type": ...}}).
    private static bool LooksLikeComfyUi(string text) => FirstJsonObject(text, root => IsWorkflow(root) || IsGraph(root));

    private static bool IsComfyUiSave(string text) => FirstJsonObject(text, root =>
        (root.TryGetProperty("prompt", out JsonElement prompt) && prompt.ValueKind == JsonValueKind.Object && IsGraph(prompt))
        || (root.TryGetProperty("workflow", out JsonElement workflow) && workflow.ValueKind == JsonValueKind.Object && IsWorkflow(workflow)));

    // Settings a generator wrote: A1111's "Steps: …, Sampler: …" line, or JSON with a node graph or sampler settings
    // (Civitai, SwarmUI, NovelAI). A camera's comment has none of these.
    private static bool HoldsGenerationSettings(string text, string trimmed) =>
        LooksLikeA1111(text) || FirstJsonObject(trimmed, root => IsGraph(root) || Has(root, "sui_image_params", "steps", "sampler", "Comment", "seed", "cfg_scale"));

    // JSON settings that name the tool that wrote them: SwarmUI's {"sui_image_params": {…, "swarm_version"}},
    // Fooocus's {"base_model", "full_prompt", "adm_guidance", "version": "Fooocus v2…"}, RuinedFooocus's {"software": "RuinedFooocus"}.
    private static (string Signal, string Detail)? NamedSettings(string text)
    {
        (string Signal, string Detail)? named = null;
        FirstJsonObject(text, root =>
        {
            if (root.TryGetProperty("sui_image_params", out JsonElement swarm) && swarm.ValueKind == JsonValueKind.Object)
            {
                named = (EvidenceSignals.SwarmUi, $"SwarmUI {Text(swarm, "swarm_version") ?? ""} parameters{Settings(swarm, "model", "steps", "seed")}".Replace("  ", " ", StringComparison.Ordinal));
            }
            else if (Text(root, "software") is { } software && software.Contains("Fooocus", StringComparison.OrdinalIgnoreCase))
            {
                named = (EvidenceSignals.Fooocus, $"{Clip(software)} settings{Settings(root, "base_model_name", "steps", "seed")}");
            }
            else if (root.TryGetProperty("base_model", out _) && Has(root, "full_prompt", "adm_guidance", "performance", "styles"))
            {
                named = (EvidenceSignals.Fooocus, $"{Clip(Text(root, "version") ?? "Fooocus")} settings{Settings(root, "base_model", "steps", "seed")}");
            }

            return named is not null;
        });
        return named;

        static string? Text(JsonElement settings, string name) =>
            settings.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        static string Settings(JsonElement settings, params string[] names)
        {
            string[] found = [.. names.Where(n => settings.TryGetProperty(n, out JsonElement v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number)
                .Select(n => $"{n} {Clip(settings.GetProperty(n).ToString())}")];
            return found.Length == 0 ? "" : $" ({string.Join(", ", found)})";
        }
    }

    private static bool IsWorkflow(JsonElement root) => root.TryGetProperty("nodes", out JsonElement nodes) && nodes.ValueKind == JsonValueKind.Array;

    private static bool IsGraph(JsonElement root) =>
        root.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("class_type", out _));

    private static bool Has(JsonElement root, params string[] names) => names.Any(n => root.TryGetProperty(n, out _));

    // Parses the first JSON value of the text (generators append text after it) and tests it when it is an object.
    private static bool FirstJsonObject(string text, Func<JsonElement, bool> test)
    {
        if (!text.StartsWith('{'))
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text), new JsonReaderOptions { MaxDepth = 64, AllowTrailingCommas = true });
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object && test(document.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    internal static string SettingsLine(string text)
    {
        int steps = text.LastIndexOf("Steps: ", StringComparison.Ordinal);
        return Clip(steps >= 0 ? text[steps..] : text);
    }

    private static string Clip(string text)
    {
        string line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= DetailLength ? line : line[..DetailLength] + "…";
    }

    private static Evidence Ai(string signal, string detail) => new(signal, EvidenceStrength.Strong, detail, EvidenceDirection.Ai);

    private static Evidence Unreadable(string detail) => new(EvidenceSignals.Unreadable, EvidenceStrength.Weak, Clip(detail), EvidenceDirection.Unknown);

    // The same signal from several blocks (a ComfyUI prompt and its workflow) is one piece of evidence.
    private static List<Evidence> Deduplicate(List<Evidence> evidence) =>
        [.. evidence.GroupBy(e => (e.Signal, e.Indicates)).Select(g => g.First())];

    [GeneratedRegex(@"DigitalSourceType(?:>|=""|\s+rdf:resource=""|>\s*<rdf:li>)\s*(?:https?://cv\.iptc\.org/newscodes/digitalsourcetype/)?(?<type>[A-Za-z]+)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex DigitalSourceType();

    [GeneratedRegex(@"\bAI[- ]generated\b|\bgenerated (?:by|with) AI\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AiGenerated();

    [GeneratedRegex(@"dcterms:provenance(?:>|="")(?<url>https?://[^<""]{1,500})", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex RemoteManifest();

    [GeneratedRegex(@"CreatorTool(?:>|="")(?<tool>[^<""]{1,200})", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex CreatorTool();

    [GeneratedRegex(@"UserComment(?:>|="")(?:\s*<rdf:Alt>\s*<rdf:li[^>]*>)?(?<json>[^<]{0,4096})", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex XmpUserComment();

    [GeneratedRegex(@"^(Workflow|Prompt)\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ComfyPrefix();

    [GeneratedRegex(@"Stable ?Diffusion|ComfyUI|AUTOMATIC1111|InvokeAI|Midjourney|DALL[·-]?E|Firefly|Fooocus|SD\.Next|SwarmUI|Forge", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KnownGenerator();
}
