using ArtGrid.Inference;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace ArtGrid.Training;

/// <summary>How well the attribution head names the family of AI images from groups it never saw.</summary>
public sealed record AttributionMetrics(
    IReadOnlyList<string> Families,
    IReadOnlyDictionary<string, int> Images,
    double OutOfGroupAccuracy,
    IReadOnlyDictionary<string, double> OutOfGroupRecallByFamily,
    double MajorityBaseline,
    float L2);

/// <summary>
/// Fits the generator-attribution head: multinomial logistic regression (ML.NET's L-BFGS maximum entropy) on the AI
/// images' standardised features, over the families with at least <see cref="MinImages"/> images from at least
/// <see cref="MinGroups"/> groups (the rest pooled as "other"), classes weighted evenly. A family that only one source
/// shows is that source's look, not a family's: a head could only learn to recognise the source. Its out-of-group
/// accuracy is measured leaving one group out.
/// </summary>
public sealed class AttributionTrainer(int seed)
{
    public const int MinImages = 20;

    public const int MinGroups = 3;

    public const string Other = "other";

    public const float DefaultL2 = 10f;

    /// <summary>The family names to train on: those with enough images and groups, then "other" when any image is left.</summary>
    public static string[] Families(IReadOnlyList<string> generators, IReadOnlyList<string> groups)
    {
        string[] kept = [.. Enumerable.Range(0, generators.Count).GroupBy(i => generators[i], StringComparer.Ordinal)
            .Where(g => g.Count() >= MinImages && g.Select(i => groups[i]).Distinct(StringComparer.Ordinal).Count() >= MinGroups && g.Key is not ("unknown" or "" or Other))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key)];
        return generators.Any(g => !kept.Contains(g, StringComparer.Ordinal)) ? [.. kept, Other] : kept;
    }

    public static string FamilyOf(string generator, IReadOnlyList<string> families) =>
        families.Contains(generator, StringComparer.Ordinal) ? generator : Other;

    public AttributionHead Fit(IReadOnlyList<float[]> features, IReadOnlyList<string> family, IReadOnlyList<string> families, float l2 = DefaultL2)
    {
        int dim = features[0].Length;
        (float[] mean, float[] std) = HeadTrainer.Standardisation(features);
        var counts = family.GroupBy(f => f, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var rows = features.Select((f, i) => new Row
        {
            Features = HeadTrainer.Standardise(f, mean, std),
            // Zero-based: loading from an enumerable stores the raw value v as key v + 1 (0 is the missing key).
            Label = (uint)IndexOf(families, family[i]),
            Weight = (float)(features.Count / ((double)families.Count * counts[family[i]])),
        }).ToList();

        var ml = new MLContext(seed);
        SchemaDefinition schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dim);
        schema[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), families.Count);
        IDataView data = ml.Data.LoadFromEnumerable(rows, schema);
        var trainer = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
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
        MaximumEntropyModelParameters model = trainer.Fit(data).Model;
        VBuffer<float>[] weights = default!;
        model.GetWeights(ref weights, out int classes);
        float[] bias = [.. model.GetBiases()];
        if (classes != families.Count)
        {
            throw new InvalidOperationException($"ML.NET fitted {classes} classes for {families.Count} families.");
        }

        var head = new AttributionHead([.. families], mean, std, [.. weights.Select(w => w.DenseValues().ToArray())], bias);
        head.Validate();
        return head;
    }

    /// <summary>Each AI image's predicted family from a head fitted without its group.</summary>
    public AttributionMetrics Measure(IReadOnlyList<float[]> features, IReadOnlyList<string> family, IReadOnlyList<string> groups, IReadOnlyList<string> families, float l2 = DefaultL2)
    {
        var predicted = new string[features.Count];
        foreach (string group in groups.Distinct(StringComparer.Ordinal))
        {
            int[] fit = [.. Enumerable.Range(0, features.Count).Where(i => groups[i] != group)];
            int[] score = [.. Enumerable.Range(0, features.Count).Where(i => groups[i] == group)];
            string[] present = [.. families.Where(f => fit.Any(i => family[i] == f))];
            if (present.Length < 2)
            {
                continue;
            }

            AttributionHead head = Fit([.. fit.Select(i => features[i])], [.. fit.Select(i => family[i])], present, l2);
            foreach (int i in score)
            {
                predicted[i] = head.Predict(features[i]).Family;
            }
        }

        int[] measured = [.. Enumerable.Range(0, features.Count).Where(i => predicted[i] is not null)];
        string majority = family.GroupBy(f => f).OrderByDescending(g => g.Count()).First().Key;
        return new AttributionMetrics(
            families,
            families.ToDictionary(f => f, f => family.Count(x => x == f), StringComparer.Ordinal),
            Math.Round(measured.Count(i => predicted[i] == family[i]) / (double)Math.Max(1, measured.Length), 4),
            families.ToDictionary(
                f => f,
                f => Math.Round(measured.Count(i => family[i] == f && predicted[i] == f) / (double)Math.Max(1, measured.Count(i => family[i] == f)), 4),
                StringComparer.Ordinal),
            Math.Round(measured.Count(i => family[i] == majority) / (double)Math.Max(1, measured.Length), 4),
            l2);
    }

    private static int IndexOf(IReadOnlyList<string> families, string family)
    {
        for (int k = 0; k < families.Count; k++)
        {
            if (families[k] == family)
            {
                return k;
            }
        }

        throw new ArgumentException($"'{family}' is not among the families ({string.Join(", ", families)}).", nameof(family));
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public uint Label { get; set; }

        public float Weight { get; set; }
    }
}
