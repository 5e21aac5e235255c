using ArtGrid.GrainInterfaces;
using ArtGrid.Inference;

namespace ArtGrid.Tests.Provenance;

/// <summary>The verdict policy through the grains: a job whose file carries a generator's manifest.</summary>
[Collection(ClusterCollection.Name)]
public sealed class VerdictMergeTests(ClusterFixture fixture)
{
    private static readonly string SamplesDir = TestAssets.ProvenanceSamplesDir;

    // c2pa-rs's generated gradient (algorithmicMedia), whose claim the cluster verifies against c2pa-rs's test roots
    // (ClusterFixture): only a verified claim decides. ChatGPT's sample would not: its signer is not on that list.
    [Fact]
    public async Task AGeneratorFileThroughTheGrainsIsAiByItsVerifiedManifestWhateverTheClassifierSays()
    {
        string path = Path.Combine(SamplesDir, "public", "c2pa-rs", "C.jpg");
        var job = new ScoreJob($"provenance-{Guid.NewGuid():N}", [ImageRef.FromFile(path)], new JobMetadata(Author: "someone", DeclaredAi: false));

        JobVerdict verdict = await fixture.Grains.GetGrain<IJobGrain>(job.JobId).ScoreAsync(job);

        ImageScore image = Assert.Single(verdict.Images);
        Assert.Equal(Labels.Ai, image.Label);
        Assert.NotNull(image.AiProbability);
        Assert.Equal(EvidenceSignals.C2pa, Assert.Single(image.Evidence!).Signal);
        Assert.StartsWith("C2PA: digitalSourceType algorithmicMedia by make_test_images", verdict.Reasons![0], StringComparison.Ordinal);
        Assert.EndsWith("(verification: verified)", verdict.Reasons![0], StringComparison.Ordinal);
        Assert.True(verdict.Conflict);

        // Answered from the cache the second time, with the evidence read again.
        var again = new ScoreJob($"provenance-{Guid.NewGuid():N}", [ImageRef.FromFile(path)], JobMetadata.None);
        ImageScore cached = Assert.Single((await fixture.Grains.GetGrain<IJobGrain>(again.JobId).ScoreAsync(again)).Images);
        Assert.True(cached.Cached);
        Assert.Equal(Labels.Ai, cached.Label);
        Assert.Equal(image.Evidence, cached.Evidence);
    }
}
