namespace ArtGrid.Inference;

/// <summary>
/// Chooses decision thresholds on the AI probability from the scores of human-made images, so that a platform can
/// promise how often a person's work is wrongly flagged as AI (the false-positive rate) rather than pick 0.5 blindly.
/// An image is flagged as AI when its probability is at or above the threshold (<c>p &gt;= t</c>), as
/// <see cref="ModelConfig.Threshold"/> is applied.
/// </summary>
/// <remarks>
/// The rule, exactly: the candidate thresholds are the distinct human scores, plus the smallest double above the
/// highest of them (the threshold that flags no human image). For a candidate <c>t</c>, the false-positive rate is the
/// number of human scores <c>&gt;= t</c> divided by the number of human scores. The threshold returned is the smallest
/// candidate whose false-positive rate is at most the target. Because every candidate is a score itself, images with
/// equal scores (a tie group) are either all flagged or all passed: a tie group that would push the rate over the target
/// is left entirely below the threshold. With a target of 0 the threshold lies just above the highest human score;
/// with a target of 1 it is the lowest human score. The rate actually reached is at most the target, and often
/// below it (it moves in steps of one tie group).
/// </remarks>
public static class OperatingPoint
{
    /// <summary>The default target: one human image in a hundred flagged as AI.</summary>
    public const double DefaultTargetFalsePositiveRate = 0.01;

    /// <summary>The default looser rate that sets the bottom of the uncertain band.</summary>
    public const double DefaultLooseFalsePositiveRate = 0.05;

    /// <summary>The smallest candidate threshold whose false-positive rate on <paramref name="humanScores"/> is at most <paramref name="targetFalsePositiveRate"/> (see the rule above).</summary>
    /// <exception cref="ArgumentException">No human scores, or a score that is not a finite number.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The target is not within [0, 1].</exception>
    public static double Threshold(IReadOnlyList<double> humanScores, double targetFalsePositiveRate = DefaultTargetFalsePositiveRate)
    {
        ArgumentNullException.ThrowIfNull(humanScores);
        if (!(targetFalsePositiveRate is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(targetFalsePositiveRate), targetFalsePositiveRate, "The target false-positive rate must lie within [0, 1].");
        }

        if (humanScores.Count == 0)
        {
            throw new ArgumentException("An operating point needs at least one human score.", nameof(humanScores));
        }

        if (humanScores.Any(s => !double.IsFinite(s)))
        {
            throw new ArgumentException("Human scores must be finite numbers.", nameof(humanScores));
        }

        double[] descending = [.. humanScores.OrderDescending()];
        double threshold = Math.BitIncrement(descending[0]);

        // Walk tie groups from the top: a group is taken whole, and only while the fraction flagged stays within the target.
        // The fraction is compared as a division (29 / 100 <= 0.29 holds; 0.29 * 100 is 28.999999999999996).
        for (int start = 0; start < descending.Length;)
        {
            int end = start;
            while (end + 1 < descending.Length && descending[end + 1] == descending[start])
            {
                end++;
            }

            if ((double)(end + 1) / descending.Length > targetFalsePositiveRate)
            {
                break;
            }

            threshold = descending[start];
            start = end + 1;
        }

        return threshold;
    }

    /// <summary>The fraction of <paramref name="humanScores"/> at or above <paramref name="threshold"/>: the false-positive rate that threshold gives.</summary>
    public static double FalsePositiveRate(IReadOnlyList<double> humanScores, double threshold)
    {
        ArgumentNullException.ThrowIfNull(humanScores);
        if (humanScores.Count == 0)
        {
            throw new ArgumentException("A false-positive rate needs at least one human score.", nameof(humanScores));
        }

        return (double)humanScores.Count(s => s >= threshold) / humanScores.Count;
    }

    /// <summary>
    /// The uncertain band for these human scores: <c>High</c> is the operating threshold at <paramref name="targetFalsePositiveRate"/>,
    /// <c>Low</c> the threshold at the looser <paramref name="looseFalsePositiveRate"/> (same rule). Probabilities in
    /// [Low, High) are <c>uncertain</c>: at or above High an image is <c>ai</c>, below Low <c>human</c>. Low never exceeds
    /// High, because a looser rate never needs a higher threshold.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The loose rate is below the target, or either is not within [0, 1].</exception>
    public static UncertainBand UncertainBand(
        IReadOnlyList<double> humanScores,
        double targetFalsePositiveRate = DefaultTargetFalsePositiveRate,
        double looseFalsePositiveRate = DefaultLooseFalsePositiveRate)
    {
        if (looseFalsePositiveRate < targetFalsePositiveRate)
        {
            throw new ArgumentOutOfRangeException(nameof(looseFalsePositiveRate), looseFalsePositiveRate, $"The loose false-positive rate must be at least the target ({targetFalsePositiveRate}).");
        }

        return new UncertainBand(Threshold(humanScores, looseFalsePositiveRate), Threshold(humanScores, targetFalsePositiveRate));
    }
}
