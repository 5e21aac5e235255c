using ArtGrid.Inference;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace ArtGrid.Training;

/// <summary>
/// Fits the logistic-regression head with ML.NET's L-BFGS trainer on standardised features, with class-balanced
/// example weights (so that 0.5 means even odds whatever the class ratio), and folds ML.NET's calibrator into
/// plain weights that <see cref="LinearHead"/> evaluates.
/// </summary>
public sealed class HeadTrainer(int seed)
{
    private readonly MLContext _ml = new(seed);

    /// <param name="groups">
    /// When given (one per image), each image weighs one over the square root of its group's size before the classes are
    /// balanced, so that a few large sources do not set the head on their own; null weighs every image alike.
    /// </param>
    public LinearHead Fit(IReadOnlyList<float[]> features, IReadOnlyList<bool> isAi, float l2, IReadOnlyList<string>? groups = null)
    {
        int dim = features[0].Length;
        (float[] mean, float[] std) = Standardisation(features);
        int positives = isAi.Count(a => a);
        int negatives = isAi.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            throw new InvalidOperationException("Training needs images of both classes.");
        }

        double[] exampleWeights = [.. Enumerable.Range(0, isAi.Count).Select(_ => 1.0)];
        if (groups is not null)
        {
            var sizes = groups.GroupBy(g => g, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            exampleWeights = [.. groups.Select(g => 1 / Math.Sqrt(sizes[g]))];
        }

        // Each class weighs half of the images' count in all.
        double positiveTotal = Enumerable.Range(0, isAi.Count).Where(i => isAi[i]).Sum(i => exampleWeights[i]);
        double negativeTotal = Enumerable.Range(0, isAi.Count).Where(i => !isAi[i]).Sum(i => exampleWeights[i]);
        var rows = features.Select((f, i) => new Row
        {
            Features = Standardise(f, mean, std),
            Label = isAi[i],
            Weight = (float)(exampleWeights[i] * isAi.Count / (2 * (isAi[i] ? positiveTotal : negativeTotal))),
        }).ToList();

        SchemaDefinition schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dim);
        IDataView data = _ml.Data.LoadFromEnumerable(rows, schema);
        var trainer = _ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
            ExampleWeightColumnName = nameof(Row.Weight),
            L2Regularization = l2,
            L1Regularization = 0f,
            OptimizationTolerance = 1e-7f,
            MaximumNumberOfIterations = 2000,
            NumberOfThreads = 1,
        });
        var transformer = trainer.Fit(data);
        var model = transformer.Model;
        LinearBinaryModelParameters linear = model.SubModel;
        ICalibrator calibrator = model.Calibrator;

        // p = sigmoid(a * (w.x + b) + c): read a and c off the calibrator at two points.
        double c = Logit(calibrator.PredictProbability(0f));
        double a = Logit(calibrator.PredictProbability(1f)) - c;
        float[] weights = linear.Weights.Select(w => (float)(a * w)).ToArray();
        var head = new LinearHead(mean, std, weights, (float)(a * linear.Bias + c));

        // The folded head must reproduce ML.NET's own probabilities.
        var engine = _ml.Model.CreatePredictionEngine<Row, Prediction>(transformer, inputSchemaDefinition: schema);
        for (int i = 0; i < Math.Min(rows.Count, 20); i++)
        {
            double expected = engine.Predict(rows[i]).Probability;
            double actual = head.Probability(features[i]);
            if (Math.Abs(expected - actual) > 1e-3)
            {
                throw new InvalidOperationException($"The exported head disagrees with ML.NET ({actual} vs {expected}).");
            }
        }

        return head;
    }

    public static (float[] Mean, float[] Std) Standardisation(IReadOnlyList<float[]> features)
    {
        int dim = features[0].Length;
        var mean = new double[dim];
        var sq = new double[dim];
        foreach (float[] f in features)
        {
            for (int j = 0; j < dim; j++)
            {
                mean[j] += f[j];
                sq[j] += (double)f[j] * f[j];
            }
        }

        var m = new float[dim];
        var s = new float[dim];
        for (int j = 0; j < dim; j++)
        {
            double mu = mean[j] / features.Count;
            double variance = Math.Max(0, sq[j] / features.Count - mu * mu);
            m[j] = (float)mu;
            s[j] = (float)Math.Max(Math.Sqrt(variance), 1e-6);
        }

        return (m, s);
    }

    /// <summary>(f - mean) / std, feature by feature.</summary>
    internal static float[] Standardise(float[] f, float[] mean, float[] std)
    {
        var z = new float[f.Length];
        for (int j = 0; j < f.Length; j++)
        {
            z[j] = (f[j] - mean[j]) / std[j];
        }

        return z;
    }

    private static double Logit(double p) => Math.Log(p / (1 - p));

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }

        public float Weight { get; set; }
    }

    private sealed class Prediction
    {
        public float Probability { get; set; }
    }
}
