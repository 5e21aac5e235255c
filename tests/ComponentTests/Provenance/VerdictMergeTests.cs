using ArtGrid.GrainInterfaces;
using ArtGrid.Inference;

namespace ArtGrid.Tests.Provenance;

/// <summary>The verdict policy through the grains: a job whose file carries a generator's manifest.</summary>
[Collection(ClusterCollection.Name)]
public sealed class VerdictMergeTests(ClusterFixture fixture)
{
    private static readonly string SamplesDir = TestAssets.ProvenanceSamplesDir;

    [Fact]
    public async Task AGeneratorFileThroughTheGrainsIsAiByItsManifestWhateverTheClassifierSays()
    {
        string path = Path.Combine(SamplesDir, "prov_0035.png");
        var job = new ScoreJob($"provenance-{Guid.NewGuid():N}", [ImageRef.FromFile(path)], new JobMetadata(Author: "someone", DeclaredAi: false));

        JobVerdict verdict = await fixture.Grains.GetGrain<IJobGrain>(job.JobId).ScoreAsync(job);

        ImageScore image = Assert.Single(verdict.Images);
        Assert.Equal(Labels.Ai, image.Label);
        Assert.NotNull(image.AiProbability);
        Assert.Equal(EvidenceSignals.C2pa, Assert.Single(image.Evidence!).Signal);
        Assert.StartsWith("C2PA: digitalSourceType trainedAlgorithmicMedia by OpenAI", verdict.Reasons![0], StringComparison.Ordinal);
        Assert.True(verdict.Conflict);

        // Answered from the cache the second time, with the evidence read again.
        var again = new ScoreJob($"provenance-{Guid.NewGuid():N}", [ImageRef.FromFile(path)], JobMetadata.None);
        ImageScore cached = Assert.Single((await fixture.Grains.GetGrain<IJobGrain>(again.JobId).ScoreAsync(again)).Images);
        Assert.True(cached.Cached);
        Assert.Equal(Labels.Ai, cached.Label);
        Assert.Equal(image.Evidence, cached.Evidence);
    }
}
