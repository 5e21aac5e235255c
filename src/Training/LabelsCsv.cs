using System.Text;

namespace ArtGrid.Training;

/// <summary>One row of a labelled set: <c>file,label</c> plus optional grouping columns (source, generator, kind, ...).</summary>
public sealed record LabelledImage(string File, bool IsAi, IReadOnlyDictionary<string, string> Columns)
{
    public string? Source => Columns.GetValueOrDefault("source") is { Length: > 0 } s ? s : null;
}

/// <summary>Reads the seed's dataset format: a CSV with a header naming at least <c>file</c> and <c>label</c> (ai/human).</summary>
public static class LabelsCsv
{
    public static IReadOnlyList<LabelledImage> Read(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        string? header = reader.ReadLine() ?? throw new InvalidDataException($"{path} is empty.");
        string[] names = ParseLine(header).Select(n => n.Trim().ToLowerInvariant()).ToArray();
        int fileColumn = Array.IndexOf(names, "file");
        int labelColumn = Array.IndexOf(names, "label");
        if (fileColumn < 0 || labelColumn < 0)
        {
            throw new InvalidDataException($"{path}: the header needs 'file' and 'label' columns (it has {string.Join(", ", names)}).");
        }

        var rows = new List<LabelledImage>();
        int lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string[] fields = ParseLine(line);
            if (fields.Length != names.Length)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: {fields.Length} fields, the header has {names.Length}.");
            }

            bool isAi = fields[labelColumn].Trim().ToLowerInvariant() switch
            {
                "ai" => true,
                "human" => false,
                string other => throw new InvalidDataException($"{path}:{lineNumber}: label '{other}' is neither 'ai' nor 'human'."),
            };
            var columns = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < names.Length; i++)
            {
                columns[names[i]] = fields[i];
            }

            rows.Add(new LabelledImage(fields[fileColumn], isAi, columns));
        }

        return rows;
    }

    /// <summary>RFC 4180 fields: commas inside double quotes, doubled quotes as a literal quote.</summary>
    public static string[] ParseLine(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return [.. fields];
    }
}
