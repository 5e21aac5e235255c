using ScottPlot;
using SkiaSharp;

namespace ArtGrid.Training.Evaluation;

/// <summary>
/// The font for the plots' text. The Skia build that ArtGrid ships for Linux has no font manager (no fontconfig), so
/// it sees no system font by itself: a common sans-serif TrueType file is looked up in the usual font folders.
/// </summary>
public static class PlotFont
{
    public static readonly string[] Files = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "FreeSans.ttf", "Arial.ttf", "arial.ttf"];

    /// <summary>Whether Skia's own default typeface has glyphs (it has where a platform font manager is built in).</summary>
    public static bool HasDefault => SKTypeface.Default.GlyphCount > 0;

    /// <summary>The registered family name, or null when Skia's default is used or no font was found.</summary>
    public static readonly Lazy<string?> Name = new(() =>
    {
        if (HasDefault)
        {
            return null;
        }

        foreach (string file in Files)
        {
            foreach (string folder in Folders().Where(Directory.Exists))
            {
                string? path = Directory.EnumerateFiles(folder, file, new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }).FirstOrDefault();
                using SKTypeface? typeface = path is null ? null : SKTypeface.FromFile(path);
                if (typeface is { GlyphCount: > 0 })
                {
                    Fonts.AddFontFile(typeface.FamilyName, path!);
                    return typeface.FamilyName;
                }
            }
        }

        return null;
    });

    public static IEnumerable<string> Folders()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return ["/usr/share/fonts", "/usr/local/share/fonts", Path.Combine(home, ".local", "share", "fonts"), Path.Combine(home, ".fonts")];
    }
}
