using System.Globalization;
using System.Text;

namespace ArtGrid.Training;

/// <summary>One image's scores from heads that never saw its group: grouped k-fold and, when grouped, leave-one-group-out.</summary>
public sealed record OutOfGroupScore(LabelledImage Image, string Group, double GroupedKFold, double? LeaveOneGroupOut);

/// <summary><c>scores.csv</c> beside a trained model: every image's out-of-group scores, for analyses by source, kind or generator.</summary>
public static class OutOfGroupScores
{
    public const string FileName = "scores.csv";

    public static void Write(string path, IReadOnlyList<OutOfGroupScore> scores)
    {
        var text = new StringBuilder("file,label,source,group,generator,kind,grouped_kfold,leave_one_group_out\n");
        foreach (OutOfGroupScore s in scores)
        {
            string[] fields =
            [
                s.Image.File, s.Image.IsAi ? "ai" : "human", s.Image.Source ?? "", s.Group,
                s.Image.Columns.GetValueOrDefault("generator") ?? "", s.Image.Columns.GetValueOrDefault("kind") ?? "",
                s.GroupedKFold.ToString("0.######", CultureInfo.InvariantCulture),
                s.LeaveOneGroupOut?.ToString("0.######", CultureInfo.InvariantCulture) ?? "",
            ];
            text.AppendJoin(',', fields.Select(Quote)).Append('\n');
        }

        File.WriteAllText(path, text.ToString());
    }

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
}
