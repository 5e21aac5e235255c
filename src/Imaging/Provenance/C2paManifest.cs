using System.Buffers.Binary;
using System.Formats.Cbor;
using System.Text;

namespace ArtGrid.Imaging.Provenance;

/// <summary>One action of a C2PA actions assertion: its name, and what it says about how and by what it was done.</summary>
public sealed record C2paAction(string Name, string? DigitalSourceType, string? SoftwareAgent, string? Description);

/// <summary>
/// An ingredient of a manifest (the file it was opened from, or one placed in it): its title, its relationship
/// (<c>parentOf</c>, <c>componentOf</c>, <c>inputTo</c>) and its own manifest when that is in the same store.
/// </summary>
public sealed record C2paIngredient(string? Title, string? Relationship, C2paManifest? Manifest);

/// <summary>
/// What ArtGrid reads from a C2PA manifest store (JUMBF boxes with CBOR content): the active manifest's claim
/// generator, its actions and their digital source types, and its ingredients with their own manifests, followed
/// through the store as Content Credentials viewers do (an image edited in ChatGPT says only <c>c2pa.opened</c>; the
/// AI creation is in the manifest of the image it was opened from). Each manifest keeps the signed bytes it was read
/// from (<see cref="Signed"/>), which <see cref="C2paVerifier"/> checks: claim signature, assertion hashes, the file's
/// hard binding and the signer's certificate chain.
/// </summary>
public sealed record C2paManifest(string? ClaimGenerator, IReadOnlyList<string> DigitalSourceTypes, IReadOnlyList<string> Actions)
{
    private const int MaxDepth = 16;
    private const int MaxBoxes = 4096;
    private const int MaxIngredientDepth = 8;

    /// <summary>The manifest's label in the store (e.g. <c>urn:uuid:…</c>).</summary>
    public string? Label { get; init; }

    public IReadOnlyList<C2paAction> ActionDetails { get; init; } = [];

    public IReadOnlyList<C2paIngredient> Ingredients { get; init; } = [];

    /// <summary>The bytes this manifest's claim, signature and assertions were read from; null when it holds no claim.</summary>
    internal C2paSignedParts? Signed { get; init; }

    /// <summary>
    /// This manifest, then the manifests of its ingredients breadth first, each once: with the relationship that
    /// leads to it (null for this one; <c>parentOf</c> when every step is one, else the first other relationship) and
    /// the title of this manifest's ingredient it was reached through.
    /// </summary>
    public IEnumerable<(C2paManifest Manifest, string? Relationship, string? Through)> WithIngredients()
    {
        var seen = new HashSet<C2paManifest>(ReferenceEqualityComparer.Instance) { this };
        var queue = new Queue<(C2paManifest, string?, string?)>();
        queue.Enqueue((this, null, null));
        while (queue.TryDequeue(out (C2paManifest Manifest, string? Relationship, string? Through) next))
        {
            yield return next;
            foreach (C2paIngredient ingredient in next.Manifest.Ingredients)
            {
                if (ingredient.Manifest is { } manifest && seen.Add(manifest))
                {
                    string relationship = next.Relationship is null or "parentOf" ? ingredient.Relationship ?? "unknown" : next.Relationship;
                    queue.Enqueue((manifest, relationship, next.Through ?? ingredient.Title ?? manifest.Label));
                }
            }
        }
    }

    /// <summary>Parses a JUMBF manifest store; throws <see cref="InvalidDataException"/> when it is malformed.</summary>
    public static C2paManifest Parse(byte[] jumbf, ProvenanceLimits limits)
    {
        var boxes = 0;
        Box store = ReadBoxes(jumbf, 0, jumbf.Length, 0, ref boxes).FirstOrDefault(b => b.Type == "jumb")
            ?? throw new InvalidDataException("no JUMBF superbox");
        if (store.Label != "c2pa")
        {
            throw new InvalidDataException($"the JUMBF store is labelled '{store.Label}', not 'c2pa'");
        }

        // The active manifest is the last one in the store; the others are its ingredients' (and theirs').
        List<Box> manifests = [.. store.Children.Where(b => b.Type == "jumb")];
        Box active = manifests.LastOrDefault() ?? throw new InvalidDataException("the C2PA store holds no manifest");
        var byLabel = new Dictionary<string, Box>(StringComparer.Ordinal);
        foreach (Box manifest in manifests.Where(m => m.Label is not null))
        {
            byLabel.TryAdd(manifest.Label!, manifest);
        }

        return Read(jumbf, active, byLabel, limits, new HashSet<string>(StringComparer.Ordinal), new Dictionary<string, C2paManifest>(StringComparer.Ordinal), 0);
    }

    // One manifest, and the manifests of its ingredients that the store holds. Each manifest is read once (two
    // ingredients naming the same one share it); one already on the path (a cycle) or past the depth limit is left out.
    private static C2paManifest Read(byte[] jumbf, Box manifest, Dictionary<string, Box> store, ProvenanceLimits limits, HashSet<string> path, Dictionary<string, C2paManifest> read, int depth)
    {
        if (manifest.Label is not null)
        {
            path.Add(manifest.Label);
        }

        string? generator = null;
        var actions = new List<C2paAction>();
        var ingredients = new List<C2paIngredient>();
        ReadOnlyMemory<byte>? claimBytes = null, signatureBytes = null;
        var assertionBoxes = new Dictionary<string, C2paAssertionBox>(StringComparer.Ordinal);
        foreach (Box part in manifest.Children.Where(b => b.Type == "jumb"))
        {
            if (part.Label is "c2pa.claim" or "c2pa.claim.v2" && Cbor(part) is Dictionary<string, object?> claim)
            {
                claimBytes ??= Content(part);
                generator = claim.GetValueOrDefault("claim_generator") as string
                    ?? Name(claim.GetValueOrDefault("claim_generator_info") is List<object?> list ? list.FirstOrDefault() : claim.GetValueOrDefault("claim_generator_info"));
            }
            else if (part.Label == "c2pa.signature")
            {
                signatureBytes ??= Content(part);
            }
            else if (part.Label == "c2pa.assertions")
            {
                foreach (Box assertion in part.Children.Where(b => b.Type == "jumb" && b.Label is not null))
                {
                    assertionBoxes.TryAdd(assertion.Label!, new C2paAssertionBox(
                        jumbf.AsMemory(assertion.Start - assertion.Header, assertion.Length + assertion.Header),
                        jumbf.AsMemory(assertion.Start, assertion.Length),
                        Content(assertion)));
                    string label = BaseLabel(assertion.Label!);
                    if (label is "c2pa.actions" or "c2pa.actions.v2" && Cbor(assertion) is Dictionary<string, object?> body && body.GetValueOrDefault("actions") is List<object?> list)
                    {
                        actions.AddRange(list.OfType<Dictionary<string, object?>>().Select(ReadAction).OfType<C2paAction>());
                    }
                    else if (label is "c2pa.ingredient" or "c2pa.ingredient.v2" or "c2pa.ingredient.v3" && Cbor(assertion) is Dictionary<string, object?> ingredient)
                    {
                        ingredients.Add(ReadIngredient(ingredient));
                    }
                }
            }
        }

        if (manifest.Label is not null)
        {
            path.Remove(manifest.Label);
        }

        var result = new C2paManifest(
            generator,
            [.. actions.Select(a => a.DigitalSourceType).OfType<string>()],
            [.. actions.Select(a => a.Name)])
        {
            Label = manifest.Label,
            ActionDetails = actions,
            Ingredients = ingredients,
            Signed = claimBytes is { } signedClaim ? new C2paSignedParts(signedClaim, signatureBytes, assertionBoxes) : null,
        };
        if (manifest.Label is not null)
        {
            read[manifest.Label] = result;
        }

        return result;

        C2paIngredient ReadIngredient(Dictionary<string, object?> ingredient)
        {
            // v1 and v2 point at the ingredient's manifest with "c2pa_manifest", v3 with "activeManifest": a hashed URI
            // such as "self#jumbf=/c2pa/urn:uuid:…".
            string? url = ((ingredient.GetValueOrDefault("activeManifest") ?? ingredient.GetValueOrDefault("c2pa_manifest")) as Dictionary<string, object?>)?.GetValueOrDefault("url") as string;
            C2paManifest? own = null;
            if (ManifestLabel(url) is { } target && !read.TryGetValue(target, out own)
                && store.TryGetValue(target, out Box? box) && !path.Contains(target) && depth < MaxIngredientDepth)
            {
                own = Read(jumbf, box, store, limits, path, read, depth + 1);
            }

            return new C2paIngredient(
                (ingredient.GetValueOrDefault("dc:title") ?? ingredient.GetValueOrDefault("title")) as string,
                ingredient.GetValueOrDefault("relationship") as string,
                own);
        }

        object? Cbor(Box box) => box.Children.FirstOrDefault(c => c.Type == "cbor") is { } content
            ? CborValue.Read(jumbf.AsMemory(content.Start, content.Length), limits.MaxTextBytes)
            : null;

        // The payload of a superbox's content box (the first after its description), whatever its type: cbor, json, ….
        ReadOnlyMemory<byte>? Content(Box box) => box.Children.FirstOrDefault(c => c.Type != "jumd") is { } content
            ? jumbf.AsMemory(content.Start, content.Length)
            : null;
    }

    private static C2paAction? ReadAction(Dictionary<string, object?> action)
    {
        if (action.GetValueOrDefault("action") is not string name)
        {
            return null;
        }

        // The source type is an IPTC URI (some writers put a space before it); the agent a string (v1) or a
        // generator-info map (v2); the description is the action's own or, as Adobe writes it, its parameters'.
        string? type = action.GetValueOrDefault("digitalSourceType") is string uri ? uri.Trim()[(uri.Trim().LastIndexOf('/') + 1)..] : null;
        string? agent = action.GetValueOrDefault("softwareAgent") as string ?? Name(action.GetValueOrDefault("softwareAgent"));
        string? description = action.GetValueOrDefault("description") as string
            ?? (action.GetValueOrDefault("parameters") as Dictionary<string, object?>)?.GetValueOrDefault("description") as string;
        return new C2paAction(name, string.IsNullOrEmpty(type) ? null : type, agent, description);
    }

    private static string? Name(object? generatorInfo) => (generatorInfo as Dictionary<string, object?>)?.GetValueOrDefault("name") as string;

    // Assertion labels may carry an instance suffix: "c2pa.ingredient__1".
    private static string BaseLabel(string label) => label.IndexOf("__", StringComparison.Ordinal) is var i and > 0 ? label[..i] : label;

    // "self#jumbf=/c2pa/urn:uuid:…" or "self#jumbf=c2pa/urn:uuid:…" (optionally followed by a path inside the manifest).
    private static string? ManifestLabel(string? url)
    {
        const string Prefix = "self#jumbf=";
        if (url is null || !url.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        string[] parts = url[Prefix.Length..].Trim('/').Split('/');
        return parts.Length >= 2 && parts[0] == "c2pa" ? parts[1] : null;
    }

    // Start and Length: the payload; Header: the bytes of the box header before it (8, or 16 with an XLBox).
    private sealed record Box(string Type, string? Label, int Start, int Length, List<Box> Children, int Header = 8);

    private static List<Box> ReadBoxes(byte[] data, int start, int end, int depth, ref int count)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException("JUMBF boxes nest too deep");
        }

        var boxes = new List<Box>();
        int position = start;
        while (position + 8 <= end)
        {
            if (++count > MaxBoxes)
            {
                throw new InvalidDataException("too many JUMBF boxes");
            }

            long length = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position));
            string type = Encoding.ASCII.GetString(data, position + 4, 4);
            int header = 8;
            if (length == 1)
            {
                if (position + 16 > end)
                {
                    throw new InvalidDataException("truncated JUMBF box header");
                }

                length = (long)BinaryPrimitives.ReadUInt64BigEndian(data.AsSpan(position + 8));
                header = 16;
            }
            else if (length == 0)
            {
                length = end - position;
            }

            if (length < header || position + length > end)
            {
                throw new InvalidDataException($"JUMBF box '{type}' at byte {position} runs past its container");
            }

            int payload = position + header;
            int payloadLength = (int)length - header;
            if (type == "jumb")
            {
                List<Box> children = ReadBoxes(data, payload, payload + payloadLength, depth + 1, ref count);
                string? label = children.FirstOrDefault(c => c.Type == "jumd") is { } description ? ReadLabel(data, description) : null;
                boxes.Add(new Box(type, label, payload, payloadLength, children, header));
            }
            else
            {
                boxes.Add(new Box(type, null, payload, payloadLength, [], header));
            }

            position += (int)length;
        }

        return boxes;
    }

    // jumd: UUID (16), toggles (1), then the label, NUL-terminated, when toggles has bit 0x02.
    private static string? ReadLabel(byte[] data, Box description)
    {
        if (description.Length < 17 || (data[description.Start + 16] & 0x02) == 0)
        {
            return null;
        }

        int start = description.Start + 17;
        int end = Array.IndexOf(data, (byte)0, start, description.Start + description.Length - start);
        return Encoding.UTF8.GetString(data, start, (end < 0 ? description.Start + description.Length : end) - start);
    }
}

/// <summary>
/// The signed bytes of one manifest, as they sit in the store: the claim's CBOR (the COSE_Sign1's detached payload),
/// the signature box's CBOR (the COSE_Sign1 itself; null when the manifest has none), and each assertion by its label.
/// </summary>
internal sealed record C2paSignedParts(ReadOnlyMemory<byte> Claim, ReadOnlyMemory<byte>? Signature, IReadOnlyDictionary<string, C2paAssertionBox> Assertions);

/// <summary>One assertion's superbox: the whole box, its payload (description and content boxes), and its content box's payload.</summary>
internal sealed record C2paAssertionBox(ReadOnlyMemory<byte> Box, ReadOnlyMemory<byte> Payload, ReadOnlyMemory<byte>? Content);

/// <summary>CBOR to plain values (maps, lists, strings, numbers), bounded in depth, items and string size.</summary>
internal static class CborValue
{
    private const int MaxDepth = 32;
    private const int MaxItems = 100_000;

    /// <summary>Byte strings are read as their length, or with <paramref name="keepBytes"/> as the bytes (hashes, signatures).</summary>
    public static object? Read(ReadOnlyMemory<byte> cbor, int maxString, bool keepBytes = false)
    {
        var reader = new CborReader(cbor, CborConformanceMode.Lax, allowMultipleRootLevelValues: true);
        int items = 0;
        try
        {
            return ReadValue(reader, 0, maxString, keepBytes, ref items);
        }
        catch (CborContentException ex)
        {
            throw new InvalidDataException("malformed CBOR: " + ex.Message, ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidDataException("malformed CBOR: " + ex.Message, ex);
        }
    }

    private static object? ReadValue(CborReader reader, int depth, int maxString, bool keepBytes, ref int items)
    {
        if (depth > MaxDepth || ++items > MaxItems)
        {
            throw new InvalidDataException("CBOR nests too deep or holds too many items");
        }

        switch (reader.PeekState())
        {
            case CborReaderState.Tag:
                reader.ReadTag();
                return ReadValue(reader, depth, maxString, keepBytes, ref items);
            case CborReaderState.StartMap:
                reader.ReadStartMap();
                var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                while (reader.PeekState() != CborReaderState.EndMap)
                {
                    object? key = ReadValue(reader, depth + 1, maxString, keepBytes, ref items);
                    map[key?.ToString() ?? ""] = ReadValue(reader, depth + 1, maxString, keepBytes, ref items);
                }

                reader.ReadEndMap();
                return map;
            case CborReaderState.StartArray:
                reader.ReadStartArray();
                var list = new List<object?>();
                while (reader.PeekState() != CborReaderState.EndArray)
                {
                    list.Add(ReadValue(reader, depth + 1, maxString, keepBytes, ref items));
                }

                reader.ReadEndArray();
                return list;
            case CborReaderState.TextString:
                string text = reader.ReadTextString();
                return text.Length > maxString ? text[..maxString] : text;
            case CborReaderState.ByteString:
                byte[] bytes = reader.ReadByteString();
                return keepBytes ? bytes : bytes.Length;
            case CborReaderState.UnsignedInteger:
                // CBOR integers run to 2^64 - 1 and -2^64, past a long either way (found by fuzz/run.sh c2pa: ReadInt64 threw
                // OverflowException out of the reader). A number past a long is none of the sizes or offsets read as longs.
                ulong unsigned = reader.ReadUInt64();
                return unsigned <= long.MaxValue ? (object)(long)unsigned : unsigned;
            case CborReaderState.NegativeInteger:
                // The value is -1 - n.
                ulong negative = reader.ReadCborNegativeIntegerRepresentation();
                return negative <= long.MaxValue ? (object)(-1L - (long)negative) : -1d - negative;
            case CborReaderState.HalfPrecisionFloat:
            case CborReaderState.SinglePrecisionFloat:
            case CborReaderState.DoublePrecisionFloat:
                return reader.ReadDouble();
            case CborReaderState.Boolean:
                return reader.ReadBoolean();
            case CborReaderState.Null:
                reader.ReadNull();
                return null;
            default:
                reader.SkipValue();
                return null;
        }
    }
}
