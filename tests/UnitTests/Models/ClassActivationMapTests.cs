using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;

namespace ArtGrid.Tests.Models;

public sealed class ClassActivationMapTests
{
    [Fact]
    public void TheMapIsTheHeadsWeightedSumOfTheFeatureMapShiftedToTheLogit()
    {
        // Five features: one before the map's slice, three from a 3 x 2 x 2 map, one after.
        var head = new LinearHead(
            FeatureMean: [0.5f, 1f, -2f, 0.25f, 3f],
            FeatureStd: [1f, 2f, 0.5f, 4f, 1f],
            Weights: [0.7f, 1.2f, -0.4f, 2f, -1.1f],
            Bias: 0.3f);
        float[] map =
        [
            1f, 2f, 3f, 4f,       // channel 0, rows (1, 2) and (3, 4)
            0f, -1f, 5f, 2f,      // channel 1
            10f, 0f, 0f, -2f,     // channel 2
        ];
        const double logit = -0.8;

        ActivationMap cam = ClassActivationMaps.Compute(map, channels: 3, height: 2, width: 2, head, offset: 1, logit);

        // By hand: w/s per channel = 1.2/2 = 0.6, -0.4/0.5 = -0.8, 2/4 = 0.5.
        double[] weighted =
        [
            (0.6 * 1) + (-0.8 * 0) + (0.5 * 10),   // 5.6
            (0.6 * 2) + (-0.8 * -1) + (0.5 * 0),   // 2.0
            (0.6 * 3) + (-0.8 * 5) + (0.5 * 0),    // -2.2
            (0.6 * 4) + (-0.8 * 2) + (0.5 * -2),   // -0.2
        ];
        double shift = logit - weighted.Average(); // -0.8 - 1.3
        Assert.Equal((2, 2), (cam.Height, cam.Width));
        Assert.Equal(new[] { 3.5, -0.1, -4.3, -2.3 }, weighted.Select(w => Math.Round(w + shift, 6)));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(weighted[i] + shift, cam.Logits[i], 5);
        }

        Assert.Equal(-4.3, cam[1, 0], 5);
        Assert.Equal(logit, cam.Logits.Average(), 5);
    }

    [Fact]
    public void AMapOfTheWrongSizeOrSliceIsRefused()
    {
        var head = new LinearHead([0f, 0f], [1f, 1f], [1f, 1f], 0f);
        Assert.Throws<ArgumentException>(() => ClassActivationMaps.Compute(new float[7], 2, 2, 2, head, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassActivationMaps.Compute(new float[8], 2, 2, 2, head, 1, 0));
    }
}
