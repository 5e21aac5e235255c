using ArtGrid.Grains.Models;
using ArtGrid.Inference;

namespace ArtGrid.Tests.Evaluation;

/// <summary>The operating-point rule on a hand-made set of human scores with tie groups.</summary>
public sealed class OperatingPointTests
{
    // Ten human scores: one at 0.9, a tie group of three at 0.5, one at 0.2, a tie group of four at 0.1, one at 0.
    private static readonly double[] Humans = [0.1, 0.5, 0.9, 0.1, 0.0, 0.5, 0.2, 0.1, 0.5, 0.1];

    [Theory]
    [InlineData(0.1, 0.9, 0.1)] // 0.9 alone is 1/10
    [InlineData(0.3, 0.9, 0.1)] // the 0.5 group would make 4/10: it stays below the threshold whole
    [InlineData(0.4, 0.5, 0.4)]
    [InlineData(0.5, 0.2, 0.5)]
    [InlineData(0.8, 0.2, 0.5)] // the 0.1 group would make 9/10
    [InlineData(0.9, 0.1, 0.9)]
    [InlineData(1.0, 0.0, 1.0)]
    public void TheThresholdIsTheSmallestScoreWhoseRateStaysWithinTheTarget(double target, double expectedThreshold, double expectedRate)
    {
        double threshold = OperatingPoint.Threshold(Humans, target);

        Assert.Equal(expectedThreshold, threshold);
        Assert.Equal(expectedRate, OperatingPoint.FalsePositiveRate(Humans, threshold));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)] // under one image in ten: no human image may be flagged
    [InlineData(0.09)]
    public void ATargetNoHumanImageCanMeetPutsTheThresholdJustAboveTheHighestHumanScore(double target)
    {
        double threshold = OperatingPoint.Threshold(Humans, target);

        Assert.Equal(Math.BitIncrement(0.9), threshold);
        Assert.True(threshold > 0.9);
        Assert.Equal(0.0, OperatingPoint.FalsePositiveRate(Humans, threshold));
    }

    [Fact]
    public void TheRateIsComparedAsAFractionNotAsAProduct()
    {
        // 0.29 * 100 is 28.999999999999996 in doubles; 29 of 100 flagged is still within 0.29.
        double[] humans = [.. Enumerable.Range(0, 100).Select(i => i / 100.0)];

        Assert.Equal(0.71, OperatingPoint.Threshold(humans, 0.29));
        Assert.Equal(0.99, OperatingPoint.Threshold(humans, 0.01));
        Assert.Equal(0.95, OperatingPoint.Threshold(humans, 0.05));
    }

    [Fact]
    public void TheOrderOfTheScoresDoesNotMatter()
    {
        double[] sorted = [.. Humans.Order()];
        double[] reversed = [.. Humans.OrderDescending()];

        foreach (double target in new[] { 0.0, 0.1, 0.35, 0.5, 1.0 })
        {
            Assert.Equal(OperatingPoint.Threshold(Humans, target), OperatingPoint.Threshold(sorted, target));
            Assert.Equal(OperatingPoint.Threshold(Humans, target), OperatingPoint.Threshold(reversed, target));
        }
    }

    [Fact]
    public void TheUncertainBandRunsFromTheLooseThresholdToTheOperatingOne()
    {
        UncertainBand band = OperatingPoint.UncertainBand(Humans, targetFalsePositiveRate: 0.1, looseFalsePositiveRate: 0.4);
        Assert.Equal(new UncertainBand(0.5, 0.9), band);

        double[] hundred = [.. Enumerable.Range(0, 100).Select(i => i / 100.0)];
        Assert.Equal(new UncertainBand(0.95, 0.99), OperatingPoint.UncertainBand(hundred)); // defaults: 5% and 1%
    }

    [Fact]
    public void BadInputIsRefused()
    {
        Assert.Throws<ArgumentException>(() => OperatingPoint.Threshold([]));
        Assert.Throws<ArgumentException>(() => OperatingPoint.Threshold([0.2, double.NaN]));
        Assert.Throws<ArgumentOutOfRangeException>(() => OperatingPoint.Threshold(Humans, -0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => OperatingPoint.Threshold(Humans, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => OperatingPoint.UncertainBand(Humans, targetFalsePositiveRate: 0.05, looseFalsePositiveRate: 0.01));
    }
}
