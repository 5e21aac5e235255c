using ArtGrid.Inference;

namespace ArtGrid.Training;

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

    /// <summary>
    /// Newton's method on the weighted log-loss (convex in the two parameters), each step halved until the loss falls
    /// (raw logits of a weakly regularised head can be large enough for a full step to overshoot), with a tiny ridge
    /// on the slope so that separable scores stay finite.
    /// </summary>
    public static PlattScaling Fit(IReadOnlyList<double> logits, IReadOnlyList<bool> isAi)
    {
        int positives = isAi.Count(a => a);
        int negatives = isAi.Count - positives;
        if (logits.Count != isAi.Count || positives == 0 || negatives == 0)
        {
            throw new ArgumentException("Calibration needs logits of both classes, one per label.");
        }

        double positiveWeight = isAi.Count / (2.0 * positives), negativeWeight = isAi.Count / (2.0 * negatives);
        double Weight(int i) => isAi[i] ? positiveWeight : negativeWeight;
        double Loss(double a, double c)
        {
            double loss = Ridge / 2 * a * a;
            for (int i = 0; i < logits.Count; i++)
            {
                double t = a * logits[i] + c;
                // -log p for AI images, -log(1 - p) for human ones, written so that exp never overflows.
                double margin = isAi[i] ? -t : t;
                loss += Weight(i) * (margin > 0 ? margin + double.LogP1(Math.Exp(-margin)) : double.LogP1(Math.Exp(margin)));
            }

            return loss;
        }

        double slope = 1, intercept = 0, current = Loss(slope, intercept);
        for (int iteration = 0; iteration < 100; iteration++)
        {
            double ga = Ridge * slope, gc = 0, haa = Ridge, hac = 0, hcc = 1e-12;
            for (int i = 0; i < logits.Count; i++)
            {
                double z = logits[i];
                double p = LinearHead.Sigmoid(slope * z + intercept);
                double r = Weight(i) * (p - (isAi[i] ? 1 : 0));
                double h = Weight(i) * p * (1 - p);
                ga += r * z;
                gc += r;
                haa += h * z * z;
                hac += h * z;
                hcc += h;
            }

            double det = haa * hcc - hac * hac;
            double da = (hcc * ga - hac * gc) / det, dc = (haa * gc - hac * ga) / det;
            double step = 1;
            double next = Loss(slope - da, intercept - dc);
            while (!(next <= current) && step > 1e-9)
            {
                step /= 2;
                next = Loss(slope - step * da, intercept - step * dc);
            }

            if (!(next <= current))
            {
                break;
            }

            slope -= step * da;
            intercept -= step * dc;
            bool converged = current - next < 1e-12 * Math.Max(1, current) && Math.Abs(step * da) + Math.Abs(step * dc) < 1e-9;
            current = next;
            if (converged)
            {
                break;
            }
        }

        return new PlattScaling(slope, intercept);
    }

    private const double Ridge = 1e-6;
}
