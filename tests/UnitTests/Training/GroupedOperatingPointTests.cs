using ArtGrid.Inference;
using ArtGrid.Training;

namespace ArtGrid.Tests.Training;

/// <summary>The group-bootstrap threshold on human scores whose false positives come in clumps, as unseen sources bring them.</summary>
public sealed class GroupedOperatingPointTests
{
    // 20 groups of 20 human images; in one group ("clumped") half the images score high, elsewhere all score low.
    private static (double[] Scores, string[] Groups) Clumped()
    {
        var scores = new List<double>();
        var groups = new List<string>();
        var rng = new Random(3);
        for (int g = 0; g < 20; g++)
        {
            for (int i = 0; i < 20; i++)
            {
                groups.Add(g == 0 ? "clumped" : $"group{g:00}");
                scores.Add(g == 0 && i < 10 ? 0.9 + (0.05 * rng.NextDouble()) : 0.5 * rng.NextDouble());
            }
        }

        return ([.. scores], [.. groups]);
    }

    [Fact]
    public void AThresholdForABadDrawOfSourcesSitsAboveThePooledOneAndFlagsLessThanTheTargetOverAll()
    {
        (double[] scores, string[] groups) = Clumped();

        GroupedThreshold chosen = GroupedOperatingPoint.Choose(scores, groups, target: 0.01, confidence: 0.9, seed: 5);

        // Pooled, 1% of 400 is 4 images: the threshold falls inside the clumped group's high scores.
        Assert.Equal(OperatingPoint.Threshold(scores, 0.01), chosen.PooledThreshold);
        Assert.True(chosen.Threshold > chosen.PooledThreshold, $"{chosen.Threshold} <= {chosen.PooledThreshold}");
        Assert.True(chosen.PooledRate <= 0.01);
        Assert.Equal(OperatingPoint.FalsePositiveRate(scores, chosen.Threshold), chosen.PooledRate);
        Assert.InRange(chosen.PooledRate, chosen.RateLow, chosen.RateHigh);
        Assert.Equal(20, chosen.HumanGroups);

        // Per group: the clumped group first, with what the shipped threshold flags in it.
        GroupFalsePositiveRate worst = chosen.ByGroup[0];
        Assert.Equal("clumped", worst.Group);
        Assert.Equal(20, worst.Images);
        Assert.Equal(scores.Take(20).Count(s => s >= chosen.Threshold), worst.Flagged);
        Assert.Equal(worst.Rate, chosen.WorstRate(20));
        Assert.Equal(20, chosen.ByGroup.Count);
    }

    [Fact]
    public void TheSameScoresAndSeedGiveTheSameThresholdAndAHigherConfidenceNeverALowerOne()
    {
        (double[] scores, string[] groups) = Clumped();

        GroupedThreshold first = GroupedOperatingPoint.Choose(scores, groups, 0.01, 0.9, seed: 5);
        GroupedThreshold again = GroupedOperatingPoint.Choose(scores, groups, 0.01, 0.9, seed: 5);
        GroupedThreshold median = GroupedOperatingPoint.Choose(scores, groups, 0.01, 0.5, seed: 5);

        Assert.Equal(first.Threshold, again.Threshold);
        Assert.True(median.Threshold <= first.Threshold);
    }

    [Fact]
    public void NoLargeGroupIsLeftWithMoreThanItsShareFlagged()
    {
        // 40 groups of 40 images scoring low, and one group of 40 whose top 4 score above everything else: pooled, 1% of
        // 1640 is 16 images, so a pooled threshold would flag all 4 (10% of that group); at most 5% (2) may be.
        var scores = new List<double>();
        var groups = new List<string>();
        for (int g = 0; g <= 40; g++)
        {
            for (int i = 0; i < 40; i++)
            {
                groups.Add($"g{g}");
                scores.Add(g == 40 && i < 4 ? 0.99 - (0.01 * i) : 0.5 * ((g * 40) + i) / 1640.0);
            }
        }

        GroupedThreshold chosen = GroupedOperatingPoint.Choose(scores, groups, target: 0.01, confidence: 0.5, seed: 1);

        Assert.Equal(2, chosen.ByGroup.Single(r => r.Group == "g40").Flagged);
        Assert.Equal(0.05, chosen.WorstRate(30));
        GroupedThreshold unconstrained = GroupedOperatingPoint.Choose(scores, groups, 0.01, 0.5, seed: 1, maxGroupRate: 1);
        Assert.True(unconstrained.ByGroup.Single(r => r.Group == "g40").Flagged > 2);
    }

    [Fact]
    public void MismatchedGroupsOrAConfidenceOutsideZeroToOneAreRefused()
    {
        Assert.Throws<ArgumentException>(() => GroupedOperatingPoint.Choose([0.1, 0.2], ["a"], 0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupedOperatingPoint.Choose([0.1], ["a"], 0.01, confidence: 1.5));
    }
}
