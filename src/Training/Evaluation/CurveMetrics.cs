namespace ArtGrid.Training.Evaluation;

/// <summary>One point of the ROC curve: what flagging every image with a probability at or above <see cref="Threshold"/> gives.</summary>
public sealed record RocPoint(double Threshold, double FalsePositiveRate, double TruePositiveRate);

/// <summary>One point of the precision-recall curve: what flagging every image at or above <see cref="Threshold"/> gives.</summary>
public sealed record PrecisionRecallPoint(double Threshold, double Recall, double Precision);

/// <summary>
/// One bin of a reliability diagram: the images whose probability lies in [<see cref="Lower"/>, <see cref="Upper"/>)
/// (the last bin includes 1), their mean probability and the fraction of them that are AI. Both are null for an empty bin.
/// </summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double? MeanPredicted, double? ObservedAiFraction);

/// <summary>
/// Threshold-free quality measures of a binary scorer with "ai" as the positive class, defined as scikit-learn defines
/// them, so that numbers from <c>artgrid eval</c> can be compared with a notebook's. An image is flagged when its
/// probability is at or above the threshold; images with equal probabilities always fall on the same side.
/// </summary>
public static class CurveMetrics
{
    /// <summary>
    /// The ROC curve, one point per distinct probability from the highest down (the threshold is that probability),
    /// preceded by (FPR 0, TPR 0) at threshold +infinity. Empty when either class is missing.
    /// </summary>
    public static IReadOnlyList<RocPoint> RocCurve(IReadOnlyList<bool> isAi, IReadOnlyList<double> score)
    {
        List<(double Threshold, int TruePositives, int FalsePositives)> steps = Steps(isAi, score);
        int positives = isAi.Count(a => a), negatives = isAi.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return [];
        }

        var points = new List<RocPoint> { new(double.PositiveInfinity, 0, 0) };
        points.AddRange(steps.Select(s => new RocPoint(s.Threshold, (double)s.FalsePositives / negatives, (double)s.TruePositives / positives)));
        return points;
    }

    /// <summary>
    /// The precision-recall curve, one point per distinct probability from the highest down, preceded by (recall 0,
    /// precision 1) at threshold +infinity as scikit-learn's <c>precision_recall_curve</c> ends with. Empty without AI images.
    /// </summary>
    public static IReadOnlyList<PrecisionRecallPoint> PrecisionRecallCurve(IReadOnlyList<bool> isAi, IReadOnlyList<double> score)
    {
        List<(double Threshold, int TruePositives, int FalsePositives)> steps = Steps(isAi, score);
        int positives = isAi.Count(a => a);
        if (positives == 0)
        {
            return [];
        }

        var points = new List<PrecisionRecallPoint> { new(double.PositiveInfinity, 0, 1) };
        points.AddRange(steps.Select(s => new PrecisionRecallPoint(s.Threshold, (double)s.TruePositives / positives, (double)s.TruePositives / (s.TruePositives + s.FalsePositives))));
        return points;
    }

    /// <summary>
    /// Average precision, step-wise as scikit-learn's <c>average_precision_score</c>: the sum over distinct thresholds,
    /// from the highest down, of (recall gained at that threshold) x (precision there). No interpolation. NaN without AI images.
    /// </summary>
    public static double AveragePrecision(IReadOnlyList<bool> isAi, IReadOnlyList<double> score)
    {
        IReadOnlyList<PrecisionRecallPoint> curve = PrecisionRecallCurve(isAi, score);
        if (curve.Count == 0)
        {
            return double.NaN;
        }

        double sum = 0;
        for (int i = 1; i < curve.Count; i++)
        {
            sum += (curve[i].Recall - curve[i - 1].Recall) * curve[i].Precision;
        }

        return sum;
    }

    /// <summary>
    /// Reliability bins: <paramref name="bins"/> equal-width bins over [0, 1]; bin i holds probabilities in
    /// [i/bins, (i+1)/bins), the last one also 1. Each reports its count, mean probability and observed AI fraction.
    /// </summary>
    public static IReadOnlyList<ReliabilityBin> Reliability(IReadOnlyList<bool> isAi, IReadOnlyList<double> score, int bins = 10)
    {
        CheckLengths(isAi, score);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var count = new int[bins];
        var sumPredicted = new double[bins];
        var ai = new int[bins];
        for (int i = 0; i < score.Count; i++)
        {
            int b = BinOf(score[i], bins);
            count[b]++;
            sumPredicted[b] += score[i];
            ai[b] += isAi[i] ? 1 : 0;
        }

        return [.. Enumerable.Range(0, bins).Select(b => new ReliabilityBin(
            (double)b / bins,
            (double)(b + 1) / bins,
            count[b],
            count[b] == 0 ? null : sumPredicted[b] / count[b],
            count[b] == 0 ? null : (double)ai[b] / count[b]))];
    }

    /// <summary>
    /// Expected calibration error: the count-weighted mean, over the bins, of |observed AI fraction - mean probability|.
    /// 0 for a perfectly calibrated scorer; NaN when the bins hold no image.
    /// </summary>
    public static double ExpectedCalibrationError(IReadOnlyList<ReliabilityBin> bins)
    {
        int total = bins.Sum(b => b.Count);
        return total == 0
            ? double.NaN
            : bins.Where(b => b.Count > 0).Sum(b => (double)b.Count / total * Math.Abs(b.ObservedAiFraction!.Value - b.MeanPredicted!.Value));
    }

    private static int BinOf(double probability, int bins)
    {
        if (!(probability is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Probabilities must lie within [0, 1].");
        }

        // Compare with the edges as they are written (b / bins), not with probability * bins: 0.7 * 10 is 7.000000000000001.
        int b = Math.Min((int)(probability * bins), bins - 1);
        if (b > 0 && probability < (double)b / bins)
        {
            b--;
        }
        else if (b < bins - 1 && probability >= (double)(b + 1) / bins)
        {
            b++;
        }

        return b;
    }

    /// <summary>Cumulative true and false positives at each distinct score, from the highest down.</summary>
    private static List<(double Threshold, int TruePositives, int FalsePositives)> Steps(IReadOnlyList<bool> isAi, IReadOnlyList<double> score)
    {
        CheckLengths(isAi, score);
        int[] order = [.. Enumerable.Range(0, score.Count).OrderByDescending(i => score[i])];
        var steps = new List<(double, int, int)>();
        int tp = 0, fp = 0;
        for (int k = 0; k < order.Length; k++)
        {
            if (isAi[order[k]])
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (k + 1 == order.Length || score[order[k + 1]] != score[order[k]])
            {
                steps.Add((score[order[k]], tp, fp));
            }
        }

        return steps;
    }

    private static void CheckLengths(IReadOnlyList<bool> isAi, IReadOnlyList<double> score)
    {
        if (isAi.Count != score.Count)
        {
            throw new ArgumentException($"{isAi.Count} labels but {score.Count} scores.");
        }

        if (score.Any(double.IsNaN))
        {
            throw new ArgumentException("Scores must be numbers (one is NaN).");
        }
    }
}
