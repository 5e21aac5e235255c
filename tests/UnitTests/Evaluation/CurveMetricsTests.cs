using ArtGrid.Training;
using ArtGrid.Training.Evaluation;

namespace ArtGrid.Tests.Evaluation;

/// <summary>The evaluation metrics against values worked out by hand (and scikit-learn's documented examples).</summary>
public sealed class CurveMetricsTests
{
    // Nine images, four AI; 0.6 is a tie between an AI and a human image.
    private static readonly double[] Scores = [0.9, 0.8, 0.7, 0.6, 0.6, 0.4, 0.3, 0.2, 0.1];
    private static readonly bool[] IsAi = [true, true, false, true, false, false, true, false, false];

    [Fact]
    public void TheRocCurveHasOnePointPerDistinctScore()
    {
        IReadOnlyList<RocPoint> curve = CurveMetrics.RocCurve(IsAi, Scores);

        RocPoint[] expected =
        [
            new(double.PositiveInfinity, 0, 0),
            new(0.9, 0, 0.25), new(0.8, 0, 0.5), new(0.7, 0.2, 0.5), new(0.6, 0.4, 0.75),
            new(0.4, 0.6, 0.75), new(0.3, 0.6, 1), new(0.2, 0.8, 1), new(0.1, 1, 1),
        ];
        Assert.Equal(expected.Length, curve.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Threshold, curve[i].Threshold);
            Assert.Equal(expected[i].FalsePositiveRate, curve[i].FalsePositiveRate, 12);
            Assert.Equal(expected[i].TruePositiveRate, curve[i].TruePositiveRate, 12);
        }

        // The area under these points (trapezoids) is the rank AUC: 15.5 of 20 pairs ordered right, the tie counting half.
        double area = 0;
        for (int i = 1; i < curve.Count; i++)
        {
            area += (curve[i].FalsePositiveRate - curve[i - 1].FalsePositiveRate) * (curve[i].TruePositiveRate + curve[i - 1].TruePositiveRate) / 2;
        }

        Assert.Equal(0.775, area, 12);
        Assert.Equal(0.775, BinaryMetrics.AreaUnderRoc(IsAi, Scores), 12);
    }

    [Fact]
    public void ThePrecisionRecallCurveStartsAtPrecisionOneAndStepsByScore()
    {
        IReadOnlyList<PrecisionRecallPoint> curve = CurveMetrics.PrecisionRecallCurve(IsAi, Scores);

        (double Recall, double Precision)[] expected =
        [
            (0, 1), (0.25, 1), (0.5, 1), (0.5, 2 / 3.0), (0.75, 3 / 5.0), (0.75, 3 / 6.0), (1, 4 / 7.0), (1, 4 / 8.0), (1, 4 / 9.0),
        ];
        Assert.Equal(expected.Length, curve.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Recall, curve[i].Recall, 12);
            Assert.Equal(expected[i].Precision, curve[i].Precision, 12);
        }
    }

    [Fact]
    public void AveragePrecisionIsTheStepwiseSumOfRecallGainsTimesPrecision()
    {
        // 0.25 * 1 + 0.25 * 1 + 0.25 * 3/5 + 0.25 * 4/7 = 111/140.
        Assert.Equal(111 / 140.0, CurveMetrics.AveragePrecision(IsAi, Scores), 12);

        // scikit-learn's docstring example: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.83333.
        Assert.Equal(5 / 6.0, CurveMetrics.AveragePrecision([false, false, true, true], [0.1, 0.4, 0.35, 0.8]), 12);

        // All scores tied: one step to recall 1 at the share of AI images.
        Assert.Equal(0.4, CurveMetrics.AveragePrecision([true, false, true, false, false], [0.5, 0.5, 0.5, 0.5, 0.5]), 12);

        // A perfect ranking.
        Assert.Equal(1.0, CurveMetrics.AveragePrecision([true, true, false], [0.9, 0.8, 0.1]), 12);
    }

    [Fact]
    public void TheRocCurveMatchesScikitLearnsDocumentedExample()
    {
        // roc_curve([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], pos_label=2): fpr [0, 0, .5, .5, 1], tpr [0, .5, .5, 1, 1], thresholds [inf, .8, .4, .35, .1].
        IReadOnlyList<RocPoint> curve = CurveMetrics.RocCurve([false, false, true, true], [0.1, 0.4, 0.35, 0.8]);

        Assert.Equal([double.PositiveInfinity, 0.8, 0.4, 0.35, 0.1], curve.Select(p => p.Threshold));
        Assert.Equal([0, 0, 0.5, 0.5, 1], curve.Select(p => p.FalsePositiveRate));
        Assert.Equal([0, 0.5, 0.5, 1, 1], curve.Select(p => p.TruePositiveRate));
    }

    [Fact]
    public void CurvesThatASetCannotDefineAreEmpty()
    {
        Assert.Empty(CurveMetrics.RocCurve([true, true], [0.2, 0.9]));
        Assert.Empty(CurveMetrics.RocCurve([false, false], [0.2, 0.9]));
        Assert.Empty(CurveMetrics.PrecisionRecallCurve([false, false], [0.2, 0.9]));
        Assert.True(double.IsNaN(CurveMetrics.AveragePrecision([false, false], [0.2, 0.9])));
        Assert.NotEmpty(CurveMetrics.PrecisionRecallCurve([true, true], [0.2, 0.9]));
    }

    [Fact]
    public void ReliabilityBinsAndExpectedCalibrationError()
    {
        IReadOnlyList<ReliabilityBin> bins = CurveMetrics.Reliability(IsAi, Scores);

        Assert.Equal(10, bins.Count);
        (int Count, double? Mean, double? Observed)[] expected =
        [
            (0, null, null), (1, 0.1, 0), (1, 0.2, 0), (1, 0.3, 1), (1, 0.4, 0),
            (0, null, null), (2, 0.6, 0.5), (1, 0.7, 0), (1, 0.8, 1), (1, 0.9, 1),
        ];
        for (int b = 0; b < 10; b++)
        {
            Assert.Equal(b / 10.0, bins[b].Lower, 12);
            Assert.Equal((b + 1) / 10.0, bins[b].Upper, 12);
            Assert.Equal(expected[b].Count, bins[b].Count);
            Assert.Equal(expected[b].Mean.HasValue, bins[b].MeanPredicted.HasValue);
            Assert.Equal(expected[b].Mean ?? 0, bins[b].MeanPredicted ?? 0, 12);
            Assert.Equal(expected[b].Observed ?? 0, bins[b].ObservedAiFraction ?? 0, 12);
        }

        // |0-.1| + |0-.2| + |1-.3| + |0-.4| + 2|.5-.6| + |0-.7| + |1-.8| + |1-.9| = 2.6, over 9 images.
        Assert.Equal(2.6 / 9, CurveMetrics.ExpectedCalibrationError(bins), 12);
    }

    [Fact]
    public void BinEdgesAreHalfOpenAndOneFallsInTheLastBin()
    {
        IReadOnlyList<ReliabilityBin> bins = CurveMetrics.Reliability([true, false, true, false], [1.0, 0.0, 0.7, 0.69999999]);

        Assert.Equal(1, bins[9].Count);
        Assert.Equal(1, bins[0].Count);
        Assert.Equal(1, bins[7].Count);
        Assert.Equal(1, bins[6].Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => CurveMetrics.Reliability([true], [1.01]));
        Assert.True(double.IsNaN(CurveMetrics.ExpectedCalibrationError(CurveMetrics.Reliability([], []))));
    }
}
