using System.Text.Json;

namespace ArtGrid.Inference;

/// <summary>
/// Logistic regression over standardised backbone features: p(ai) = sigmoid(w . ((x - mean) / std) + b).
/// Stored as <c>head.json</c> beside <c>model.json</c>.
/// </summary>
public sealed record LinearHead(float[] FeatureMean, float[] FeatureStd, float[] Weights, float Bias)
{
    public int FeatureCount => Weights.Length;

    public double Probability(ReadOnlySpan<float> features) => Sigmoid(Logit(features));

    public double Logit(ReadOnlySpan<float> features)
    {
        if (features.Length != Weights.Length)
        {
            throw new ArgumentException($"The head expects {Weights.Length} features, got {features.Length}.", nameof(features));
        }

        double z = Bias;
        for (int i = 0; i < features.Length; i++)
        {
            z += Weights[i] * ((features[i] - FeatureMean[i]) / FeatureStd[i]);
        }

        return z;
    }

    public static double Sigmoid(double z) => 1.0 / (1.0 + Math.Exp(-z));

    public void Validate()
    {
        if (FeatureMean.Length != Weights.Length || FeatureStd.Length != Weights.Length)
        {
            throw new InvalidDataException($"head: mean ({FeatureMean.Length}), std ({FeatureStd.Length}) and weights ({Weights.Length}) differ in length.");
        }

        if (FeatureStd.Any(s => !(s > 0f)) || Weights.Any(w => !float.IsFinite(w)) || !float.IsFinite(Bias))
        {
            throw new InvalidDataException("head: std must be positive and every weight finite.");
        }
    }

    public static LinearHead Load(string path)
    {
        using FileStream stream = File.OpenRead(path);
        LinearHead head = JsonSerializer.Deserialize<LinearHead>(stream, ModelConfig.JsonOptions)
            ?? throw new InvalidDataException($"{path}: empty head.");
        head.Validate();
        return head;
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, ModelConfig.JsonOptions));
}
