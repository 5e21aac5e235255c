using ArtGrid.Training.Evaluation;
using SkiaSharp;
using Xunit;

namespace ArtGrid.Tests;

/// <summary>What a report plot must be, for the tests that draw one (in process, or through <c>artgrid eval</c>).</summary>
public static class PlotAssertions
{
    /// <summary>A PNG of the plot size; with curves, something drawn on it beyond the background and the grid (antialiased lines and markers).</summary>
    public static void AssertPlot(string path, bool withCurves = true)
    {
        using SKBitmap? bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal((EvaluationPlots.Width, EvaluationPlots.Height), (bitmap.Width, bitmap.Height));
        if (withCurves)
        {
            int colours = bitmap.Pixels.Distinct().Count();
            Assert.True(colours > 20, $"{path} has {colours} colours");
        }
    }
}
