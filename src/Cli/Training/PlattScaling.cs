using ArtGrid.Grains.Inference;

namespace ArtGrid.Cli.Training;

/// <summary>
/// A sigmoid over a head's logit, p = sigmoid(Slope * z + Intercept), fitted by maximum likelihood with each class
/// weighted to half the total (as <see cref="HeadTrainer"/> weighs them, so 0.5 stays even odds whatever the class
/// ratio). Fitted to out-of-fold logits it corrects what regularisation and unseen sources do to a head's scale;
/// <see cref="Apply"/> folds it into the head's weights, so serving needs nothing new.
/// </summary>
public sealed record PlattScaling(double Slope, double Intercept)
{
    public double Probability(double logit) => LinearHead.Sigmoid(Slope * logit + Intercept);

    public LinearHead Apply(LinearHead head) => head with
    {
        Weights = Array.ConvertAll(head.Weights, w => (float)(Slope * w)),
        Bias = (float)(Slope * head.Bias + Intercept),
    };

    /// <summary>Newton's method on the weighted log-loss (convex in the two parameters), with a tiny ridge so that separable scores stay finite.</summary>
    public static PlattScaling Fit(IReadOnlyList<double> logits, IReadOnlyList<bool> isAi)
    {
        int positives = isAi.Count(a => a);
        int negatives = isAi.Count - positives;
        if (logits.Count != isAi.Count || positives == 0 || negatives == 0)
        {
            throw new ArgumentException("Calibration needs logits of both classes, one per label.");
        }

        double positiveWeight = isAi.Count / (2.0 * positives), negativeWeight = isAi.Count / (2.0 * negatives);
        const double Ridge = 1e-6;
        double a = 1, c = 0;
        for (int iteration = 0; iteration < 100; iteration++)
        {
            double ga = Ridge * a, gc = 0, haa = Ridge, hac = 0, hcc = 1e-12;
            for (int i = 0; i < logits.Count; i++)
            {
                double z = logits[i];
                double p = LinearHead.Sigmoid(a * z + c);
                double w = isAi[i] ? positiveWeight : negativeWeight;
                double r = w * (p - (isAi[i] ? 1 : 0));
                double s = w * p * (1 - p);
                ga += r * z;
                gc += r;
                haa += s * z * z;
                hac += s * z;
                hcc += s;
            }

            double det = haa * hcc - hac * hac;
            double da = (hcc * ga - hac * gc) / det;
            double dc = (haa * gc - hac * ga) / det;
            a -= da;
            c -= dc;
            if (Math.Abs(da) + Math.Abs(dc) < 1e-10)
            {
                break;
            }
        }

        return new PlattScaling(a, c);
    }
}
