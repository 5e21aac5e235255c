using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.Models;

/// <summary>The activation map travels through the cluster's grains (serialised between client and silo) and its cache.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ActivationMapClusterTests(ClusterFixture cluster)
{
    [Fact]
    public async Task AScoredImageCarriesItsMapAndACacheHitKeepsIt()
    {
        byte[] bytes = [.. File.ReadAllBytes(TestAssets.SampleImages[1]), 42]; // a byte after the end: content no other test scores
        var first = new ScoreJob($"map-a-{Guid.NewGuid():N}", [ImageRef.FromBytes("a.jpg", bytes)], JobMetadata.None);
        var second = new ScoreJob($"map-b-{Guid.NewGuid():N}", [ImageRef.FromBytes("b.jpg", bytes)], JobMetadata.None);

        ImageScore scored = (await cluster.Grains.GetGrain<IJobGrain>(first.JobId).ScoreAsync(first)).Images[0];
        ImageScore cached = (await cluster.Grains.GetGrain<IJobGrain>(second.JobId).ScoreAsync(second)).Images[0];

        Assert.False(scored.Cached);
        ActivationMap map = scored.ActivationMap!;
        Assert.Equal((28, 28, 28 * 28), (map.Height, map.Width, map.Logits.Length)); // the default model reads the second stage
        double p = scored.AiProbability!.Value;
        Assert.Equal(Math.Log(p / (1 - p)), map.Logits.Average(), 3);
        Assert.True(cached.Cached);
        Assert.Equal(map.Logits, cached.ActivationMap!.Logits);
    }
}
