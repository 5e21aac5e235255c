namespace ArtGrid.Inference;

/// <summary>
/// Class activation maps (Zhou et al., 2016) for a linear head over standardised, globally average-pooled features.
/// The head's logit is b + sum_j w_j (f_j - m_j) / s_j; for the feature map's slice f_c = mean over cells of A_c, so the
/// logit is linear in the cells: map[h, w] = sum_c (w_c / s_c) A_c[h, w] + k. The constant k is chosen so that the map's
/// mean equals the image's logit (it gathers the bias, the means and every feature outside the map's slice): a cell
/// then reads as the logit the image would get if all of it looked like that cell.
/// </summary>
public static class ClassActivationMaps
{
    /// <param name="featureMap">One image's feature map, [C, H, W] row-major.</param>
    /// <param name="offset">Where the map's C pooled features start in the head's feature vector.</param>
    /// <param name="logit">The head's logit for the whole feature vector of this image.</param>
    public static ActivationMap Compute(ReadOnlySpan<float> featureMap, int channels, int height, int width, LinearHead head, int offset, double logit) =>
        FromWeightedSums(WeightedSums(featureMap, channels, height * width, head, offset), height, width, logit);

    /// <summary>sum_c (w_c / s_c) A_c per cell: the map before its shift, which needs the whole image's logit.</summary>
    public static double[] WeightedSums(ReadOnlySpan<float> featureMap, int channels, int cells, LinearHead head, int offset)
    {
        if (featureMap.Length != channels * cells)
        {
            throw new ArgumentException($"A feature map of {channels} channels and {cells} cells has {channels * cells} values, not {featureMap.Length}.", nameof(featureMap));
        }

        if (offset < 0 || offset + channels > head.FeatureCount)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Features {offset}..{offset + channels - 1} are outside the head's {head.FeatureCount}.");
        }

        var sums = new double[cells];
        for (int c = 0; c < channels; c++)
        {
            double weight = head.Weights[offset + c] / (double)head.FeatureStd[offset + c];
            ReadOnlySpan<float> plane = featureMap.Slice(c * cells, cells);
            for (int p = 0; p < cells; p++)
            {
                sums[p] += weight * plane[p];
            }
        }

        return sums;
    }

    /// <summary>The map of <see cref="WeightedSums"/>, shifted so that its mean is <paramref name="logit"/>.</summary>
    public static ActivationMap FromWeightedSums(double[] sums, int height, int width, double logit)
    {
        if (sums.Length != height * width)
        {
            throw new ArgumentException($"{sums.Length} sums for a {height}x{width} map.", nameof(sums));
        }

        double shift = logit - sums.Average();
        var map = new float[sums.Length];
        for (int p = 0; p < sums.Length; p++)
        {
            map[p] = (float)(sums[p] + shift);
        }

        return new ActivationMap(height, width, map);
    }
}
