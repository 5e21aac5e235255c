using System.Text.Json;

namespace ArtGrid.Inference;

/// <summary>
/// Multinomial logistic regression over the same standardised features as the <see cref="LinearHead"/>, trained on AI
/// images only: p(family) = softmax(W ((x - mean) / std) + b). Stored as <c>attribution.json</c> beside the head.
/// </summary>
public sealed record AttributionHead(string[] Families, float[] FeatureMean, float[] FeatureStd, float[][] Weights, float[] Bias)
{
    public int FeatureCount => FeatureMean.Length;

    /// <summary>The most probable family.</summary>
    public GeneratorGuess Predict(ReadOnlySpan<float> features)
    {
        double[] p = Probabilities(features);
        int best = 0;
        for (int k = 1; k < p.Length; k++)
        {
            if (p[k] > p[best])
            {
                best = k;
            }
        }

        return new GeneratorGuess(Families[best], Math.Round(p[best], 4));
    }

    public double[] Probabilities(ReadOnlySpan<float> features)
    {
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"The attribution head expects {FeatureCount} features, got {features.Length}.", nameof(features));
        }

        var z = new double[Families.Length];
        for (int k = 0; k < z.Length; k++)
        {
            double s = Bias[k];
            float[] w = Weights[k];
            for (int j = 0; j < features.Length; j++)
            {
                s += w[j] * ((features[j] - FeatureMean[j]) / FeatureStd[j]);
            }

            z[k] = s;
        }

        double max = z.Max();
        double sum = 0;
        for (int k = 0; k < z.Length; k++)
        {
            z[k] = Math.Exp(z[k] - max);
            sum += z[k];
        }

        for (int k = 0; k < z.Length; k++)
        {
            z[k] /= sum;
        }

        return z;
    }

    public void Validate()
    {
        if (Families is not { Length: >= 2 } || Weights.Length != Families.Length || Bias.Length != Families.Length)
        {
            throw new InvalidDataException("attribution: at least two families, one weight row and one bias per family.");
        }

        if (FeatureStd.Length != FeatureMean.Length || Weights.Any(w => w.Length != FeatureMean.Length))
        {
            throw new InvalidDataException($"attribution: mean ({FeatureMean.Length}), std ({FeatureStd.Length}) and every weight row must have one value per feature.");
        }

        if (FeatureStd.Any(s => !(s > 0f)) || Weights.Any(w => w.Any(v => !float.IsFinite(v))) || Bias.Any(b => !float.IsFinite(b)))
        {
            throw new InvalidDataException("attribution: std must be positive and every weight finite.");
        }
    }

    public static AttributionHead Load(string path)
    {
        using FileStream stream = File.OpenRead(path);
        AttributionHead head = JsonSerializer.Deserialize<AttributionHead>(stream, ModelConfig.JsonOptions)
            ?? throw new InvalidDataException($"{path}: empty attribution head.");
        head.Validate();
        return head;
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, ModelConfig.JsonOptions));
}
