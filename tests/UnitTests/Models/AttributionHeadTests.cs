using ArtGrid.Inference;

namespace ArtGrid.Tests.Models;

public sealed class AttributionHeadTests
{
    // Two features, three families: each family's weight row points at one corner of the plane.
    private static readonly AttributionHead Head = new(
        ["sd1.x", "midjourney", "other"],
        [1f, 1f],
        [2f, 2f],
        [[4f, 0f], [0f, 4f], [-4f, -4f]],
        [0f, 0f, 0f]);

    [Fact]
    public void TheMostProbableFamilyIsNamedWithItsSoftmaxProbability()
    {
        GeneratorGuess guess = Head.Predict([3f, 1f]); // standardised: (1, 0)

        double e4 = Math.Exp(4), e0 = 1, em4 = Math.Exp(-4);
        Assert.Equal("sd1.x", guess.Family);
        Assert.Equal(Math.Round(e4 / (e4 + e0 + em4), 4), guess.Probability);
        Assert.Equal("other", Head.Predict([-1f, -1f]).Family);
        Assert.Equal(1.0, Head.Probabilities([1f, 5f]).Sum(), 9);
    }

    [Fact]
    public void AHeadWhoseShapesDisagreeIsRefused()
    {
        Assert.Throws<InvalidDataException>(() => (Head with { Bias = [0f] }).Validate());
        Assert.Throws<InvalidDataException>(() => (Head with { Weights = [[1f], [1f], [1f]] }).Validate());
        Assert.Throws<InvalidDataException>(() => (Head with { FeatureStd = [0f, 1f] }).Validate());
        Assert.Throws<ArgumentException>(() => Head.Predict([1f]));
    }
}
