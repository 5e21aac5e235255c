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
    public void MismatchedGroupsOrAConfidenceOutsideZeroToOneAreRefused()
    {
        Assert.Throws<ArgumentException>(() => GroupedOperatingPoint.Choose([0.1, 0.2], ["a"], 0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupedOperatingPoint.Choose([0.1], ["a"], 0.01, confidence: 1.5));
    }
}
