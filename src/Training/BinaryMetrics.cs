namespace ArtGrid.Training;

/// <summary>Binary classification metrics, with "ai" as the positive class.</summary>
public sealed record BinaryMetrics(
    int Count,
    int Positives,
    double Accuracy,
    double RocAuc,
    double Precision,
    double Recall,
    double FalsePositiveRate,
    int TruePositives,
    int FalsePositives,
    int TrueNegatives,
    int FalseNegatives,
    double Threshold)
{
    public static BinaryMetrics Compute(IReadOnlyList<bool> isAi, IReadOnlyList<double> aiProbability, double threshold)
    {
        if (isAi.Count != aiProbability.Count || isAi.Count == 0)
        {
            throw new ArgumentException("Labels and probabilities must be non-empty and of the same length.");
        }

        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < isAi.Count; i++)
        {
            bool predicted = aiProbability[i] >= threshold;
            (tp, fp, tn, fn) = (isAi[i], predicted) switch
            {
                (true, true) => (tp + 1, fp, tn, fn),
                (false, true) => (tp, fp + 1, tn, fn),
                (false, false) => (tp, fp, tn + 1, fn),
                (true, false) => (tp, fp, tn, fn + 1),
            };
        }

        return new BinaryMetrics(
            isAi.Count,
            tp + fn,
            (double)(tp + tn) / isAi.Count,
            AreaUnderRoc(isAi, aiProbability),
            tp + fp == 0 ? double.NaN : (double)tp / (tp + fp),
            tp + fn == 0 ? double.NaN : (double)tp / (tp + fn),
            fp + tn == 0 ? double.NaN : (double)fp / (fp + tn),
            tp, fp, tn, fn, threshold);
    }

    /// <summary>Area under the ROC curve: the probability that a random AI image outscores a random human one (ties count half).</summary>
    public static double AreaUnderRoc(IReadOnlyList<bool> isAi, IReadOnlyList<double> score)
    {
        int[] order = Enumerable.Range(0, score.Count).OrderBy(i => score[i]).ToArray();
        double rankSumPositive = 0;
        int positives = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && score[order[end + 1]] == score[order[start]])
            {
                end++;
            }

            double averageRank = (start + end) / 2.0 + 1; // ranks are 1-based; ties share their mean rank
            for (int k = start; k <= end; k++)
            {
                if (isAi[order[k]])
                {
                    rankSumPositive += averageRank;
                    positives++;
                }
            }

            start = end + 1;
        }

        int negatives = score.Count - positives;
        return positives == 0 || negatives == 0
            ? double.NaN
            : (rankSumPositive - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }
}
