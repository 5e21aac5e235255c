using ArtGrid.Inference;
using ArtGrid.Training;

namespace ArtGrid.Tests.Training;

/// <summary>The attribution head on synthetic features: which families it keeps, what it learns, how it is measured.</summary>
public sealed class AttributionTrainerTests
{
    [Fact]
    public void OnlyFamiliesWithEnoughImagesFromEnoughGroupsAreNamedTheRestArePooled()
    {
        // sdxl: 30 images over 3 groups; midjourney: 40 images in one group; flux: 5 images over 5 groups.
        string[] generators = [.. Enumerable.Repeat("sdxl", 30), .. Enumerable.Repeat("midjourney", 40), .. Enumerable.Repeat("flux", 5)];
        string[] groups = [.. Enumerable.Range(0, 30).Select(i => $"s{i % 3}"), .. Enumerable.Repeat("codrops", 40), .. Enumerable.Range(0, 5).Select(i => $"f{i}")];

        string[] families = AttributionTrainer.Families(generators, groups);

        Assert.Equal(["sdxl", AttributionTrainer.Other], families);
        Assert.Equal(AttributionTrainer.Other, AttributionTrainer.FamilyOf("midjourney", families));
    }

    [Fact]
    public void AFamilyThatShowsInItsFeaturesIsNamedOutOfGroupAndTheHeadTravelsAsJson()
    {
        // Three families, each over four groups, told apart by which of three features is high; a fourth feature is noise.
        var rng = new Random(9);
        var features = new List<float[]>();
        var family = new List<string>();
        var groups = new List<string>();
        string[] names = ["a", "b", "c"];
        for (int f = 0; f < 3; f++)
        {
            for (int i = 0; i < 40; i++)
            {
                float[] x = [.. Enumerable.Range(0, 4).Select(j => (float)((j == f ? 2 : 0) + rng.NextDouble()))];
                features.Add(x);
                family.Add(names[f]);
                groups.Add($"{names[f]}{i % 4}");
            }
        }

        var trainer = new AttributionTrainer(seed: 1);
        AttributionMetrics metrics = trainer.Measure(features, family, groups, names);
        AttributionHead head = trainer.Fit(features, family, names);

        Assert.True(metrics.OutOfGroupAccuracy > 0.9, $"{metrics.OutOfGroupAccuracy}");
        Assert.True(metrics.OutOfGroupAccuracy > metrics.MajorityBaseline);
        Assert.Equal(40, metrics.Images["b"]);
        Assert.Equal("c", head.Predict([0.5f, 0.5f, 2.5f, 0.5f]).Family);

        string path = Path.GetTempFileName();
        try
        {
            head.Save(path);
            AttributionHead loaded = AttributionHead.Load(path);
            Assert.Equal(head.Families, loaded.Families);
            Assert.Equal(head.Predict(features[0]), loaded.Predict(features[0]));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
