using System.Buffers.Binary;
using System.Formats.Cbor;
using System.Text;

namespace ArtGrid.Imaging.Provenance;

/// <summary>
/// What ArtGrid reads from a C2PA manifest store (JUMBF boxes with CBOR content): the active manifest's claim
/// generator and its actions' digital source types. The COSE signature is not validated (no maintained .NET C2PA
/// library does it), so every claim is reported as unverified.
/// </summary>
public sealed record C2paManifest(string? ClaimGenerator, IReadOnlyList<string> DigitalSourceTypes, IReadOnlyList<string> Actions)
{
    private const int MaxDepth = 16;
    private const int MaxBoxes = 4096;

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

        // The active manifest is the last one in the store.
        Box manifest = store.Children.LastOrDefault(b => b.Type == "jumb") ?? throw new InvalidDataException("the C2PA store holds no manifest");
        string? generator = null;
        var sourceTypes = new List<string>();
        var actions = new List<string>();
        foreach (Box part in manifest.Children.Where(b => b.Type == "jumb"))
        {
            if (part.Label is "c2pa.claim" or "c2pa.claim.v2" && Cbor(part) is Dictionary<string, object?> claim)
            {
                generator = claim.GetValueOrDefault("claim_generator") as string
                    ?? ((claim.GetValueOrDefault("claim_generator_info") as List<object?>)?.FirstOrDefault() as Dictionary<string, object?>)?.GetValueOrDefault("name") as string
                    ?? (claim.GetValueOrDefault("claim_generator_info") as Dictionary<string, object?>)?.GetValueOrDefault("name") as string;
            }
            else if (part.Label == "c2pa.assertions")
            {
                foreach (Box assertion in part.Children.Where(b => b.Type == "jumb" && b.Label?.StartsWith("c2pa.actions", StringComparison.Ordinal) == true))
                {
                    if (Cbor(assertion) is Dictionary<string, object?> body && body.GetValueOrDefault("actions") is List<object?> list)
                    {
                        foreach (Dictionary<string, object?> action in list.OfType<Dictionary<string, object?>>())
                        {
                            if (action.GetValueOrDefault("action") is string name)
                            {
                                actions.Add(name);
                            }

                            if (action.GetValueOrDefault("digitalSourceType") is string type)
                            {
                                sourceTypes.Add(type[(type.LastIndexOf('/') + 1)..]);
                            }
                        }
                    }
                }
            }
        }

        return new C2paManifest(generator, sourceTypes, actions);

        object? Cbor(Box box) => box.Children.FirstOrDefault(c => c.Type == "cbor") is { } content
            ? CborValue.Read(jumbf.AsMemory(content.Start, content.Length), limits.MaxTextBytes)
            : null;
    }

    private sealed record Box(string Type, string? Label, int Start, int Length, List<Box> Children);

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
                string? label = children.FirstOrDefault(c => c.Type == "jumd") is { } description ? Label(data, description) : null;
                boxes.Add(new Box(type, label, payload, payloadLength, children));
            }
            else
            {
                boxes.Add(new Box(type, null, payload, payloadLength, []));
            }

            position += (int)length;
        }

        return boxes;
    }

    // jumd: UUID (16), toggles (1), then the label, NUL-terminated, when toggles has bit 0x02.
    private static string? Label(byte[] data, Box description)
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

/// <summary>CBOR to plain values (maps, lists, strings, numbers), bounded in depth, items and string size.</summary>
internal static class CborValue
{
    private const int MaxDepth = 32;
    private const int MaxItems = 100_000;

    public static object? Read(ReadOnlyMemory<byte> cbor, int maxString)
    {
        var reader = new CborReader(cbor, CborConformanceMode.Lax, allowMultipleRootLevelValues: true);
        int items = 0;
        try
        {
            return ReadValue(reader, 0, maxString, ref items);
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

    private static object? ReadValue(CborReader reader, int depth, int maxString, ref int items)
    {
        if (depth > MaxDepth || ++items > MaxItems)
        {
            throw new InvalidDataException("CBOR nests too deep or holds too many items");
        }

        switch (reader.PeekState())
        {
            case CborReaderState.Tag:
                reader.ReadTag();
                return ReadValue(reader, depth, maxString, ref items);
            case CborReaderState.StartMap:
                reader.ReadStartMap();
                var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                while (reader.PeekState() != CborReaderState.EndMap)
                {
                    object? key = ReadValue(reader, depth + 1, maxString, ref items);
                    map[key?.ToString() ?? ""] = ReadValue(reader, depth + 1, maxString, ref items);
                }

                reader.ReadEndMap();
                return map;
            case CborReaderState.StartArray:
                reader.ReadStartArray();
                var list = new List<object?>();
                while (reader.PeekState() != CborReaderState.EndArray)
                {
                    list.Add(ReadValue(reader, depth + 1, maxString, ref items));
                }

                reader.ReadEndArray();
                return list;
            case CborReaderState.TextString:
                string text = reader.ReadTextString();
                return text.Length > maxString ? text[..maxString] : text;
            case CborReaderState.ByteString:
                return reader.ReadByteString().Length;
            case CborReaderState.UnsignedInteger:
            case CborReaderState.NegativeInteger:
                return reader.ReadInt64();
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
