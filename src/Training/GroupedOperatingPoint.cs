using ArtGrid.Inference;

namespace ArtGrid.Training;

/// <summary>
/// The false-positive rate a threshold gives on one group of human images never seen in training.
/// </summary>
public sealed record GroupFalsePositiveRate(string Group, int Images, int Flagged, double Rate);

/// <summary>
/// A threshold chosen for the sources it has not seen, and what it is measured to do there.
/// <see cref="Threshold"/> flags <see cref="Target"/> of the human images in a resample of the human groups that is worse
/// than <see cref="Confidence"/> of all resamples; <see cref="PooledRate"/> is what it flags over all of them, and
/// <see cref="RateLow"/>..<see cref="RateHigh"/> the 5th to 95th percentile over resamples (how far it can drift on
/// another draw of sources).
/// </summary>
public sealed record GroupedThreshold(
    double Target,
    double Confidence,
    double Threshold,
    double PooledThreshold,
    double PooledRate,
    double RateLow,
    double RateHigh,
    int HumanGroups,
    IReadOnlyList<GroupFalsePositiveRate> ByGroup)
{
    /// <summary>The highest rate among groups of at least <paramref name="minImages"/> human images.</summary>
    public double WorstRate(int minImages) => ByGroup.Where(g => g.Images >= minImages).Select(g => g.Rate).DefaultIfEmpty(0).Max();
}

/// <summary>
/// Chooses an operating threshold from out-of-group scores so that its promise holds on unseen sources. A threshold
/// read off the pooled human scores meets its target on average; but false positives come in clumps (one game's art
/// style, one photographer's camera), so on a new draw of sources the rate moves by whole groups. Here the human groups
/// are resampled with replacement (a group bootstrap); each resample gives the threshold that would meet the target on
/// it, and the threshold shipped is the <see cref="GroupedThreshold.Confidence"/> quantile of those: met on that share
/// of plausible source mixes, not just on the one measured. It is then raised, where needed, until no measured group of
/// at least <c>minGroupImages</c> human images has more than <c>maxGroupRate</c> of them flagged: a promise per source,
/// not only on average.
/// </summary>
public static class GroupedOperatingPoint
{
    public const double DefaultConfidence = 0.9;

    public const int Resamples = 2000;

    public const double DefaultMaxGroupRate = 0.05;

    public const int DefaultMinGroupImages = 30;

    public static GroupedThreshold Choose(
        IReadOnlyList<double> humanScores,
        IReadOnlyList<string> humanGroups,
        double target,
        double confidence = DefaultConfidence,
        int seed = 17,
        double maxGroupRate = DefaultMaxGroupRate,
        int minGroupImages = DefaultMinGroupImages)
    {
        if (humanScores.Count != humanGroups.Count || humanScores.Count == 0)
        {
            throw new ArgumentException("One group per human score, and at least one score.", nameof(humanGroups));
        }

        if (confidence is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "The confidence must lie within [0, 1].");
        }

        (string Name, double[] Scores)[] byGroup = [.. Enumerable.Range(0, humanScores.Count)
            .GroupBy(i => humanGroups[i], StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Select(i => humanScores[i]).ToArray()))];

        // Each resample is a list of groups drawn with replacement; its threshold is read off their scores together.
        var rng = new Random(seed);
        var thresholds = new double[Resamples];
        var draws = new int[Resamples][];
        for (int b = 0; b < Resamples; b++)
        {
            draws[b] = [.. Enumerable.Range(0, byGroup.Length).Select(_ => rng.Next(byGroup.Length))];
            thresholds[b] = OperatingPoint.Threshold([.. draws[b].SelectMany(k => byGroup[k].Scores)], target);
        }

        Array.Sort(thresholds);
        double threshold = thresholds[Math.Min(Resamples - 1, (int)Math.Floor(confidence * Resamples))];
        foreach ((_, double[] group) in byGroup.Where(g => g.Scores.Length >= minGroupImages))
        {
            // Flagging at most `allowed` of the group needs a threshold just above its next score, and no more.
            int allowed = (int)Math.Floor((maxGroupRate * group.Length) + 1e-9);
            if (allowed < group.Length)
            {
                threshold = Math.Max(threshold, Math.BitIncrement(group.OrderDescending().ElementAt(allowed)));
            }
        }

        int[] flagged = [.. byGroup.Select(g => g.Scores.Count(score => score >= threshold))];
        double[] rates = [.. draws.Select(d => (double)d.Sum(k => flagged[k]) / d.Sum(k => byGroup[k].Scores.Length)).Order()];
        GroupFalsePositiveRate[] perGroup = [.. byGroup
            .Select((g, k) => new GroupFalsePositiveRate(g.Name, g.Scores.Length, flagged[k], (double)flagged[k] / g.Scores.Length))
            .OrderByDescending(g => g.Rate).ThenByDescending(g => g.Images).ThenBy(g => g.Group, StringComparer.Ordinal)];

        return new GroupedThreshold(
            target,
            confidence,
            threshold,
            OperatingPoint.Threshold(humanScores, target),
            OperatingPoint.FalsePositiveRate(humanScores, threshold),
            rates[(int)(0.05 * (rates.Length - 1))],
            rates[(int)(0.95 * (rates.Length - 1))],
            byGroup.Length,
            perGroup);
    }
}
