using ArtGrid.GrainInterfaces;
using ArtGrid.Grains;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace ArtGrid.Tests;

/// <summary>
/// What the grains keep must come back from a cluster's Redis grain storage, which writes JSON with the runtime type of
/// every interface-typed member and reads back only types Orleans allows. A job grain activated again on another silo
/// (after a crash, a drain, or a redelivery) reads its state: a verdict that does not read back loses its job. Memory
/// storage never serializes, so this goes through the silo's own storage serializer.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GrainStateStorageTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AScoredJobsState_ReadsBackFromTheClustersStorageSerializer()
    {
        IGrainStorageSerializer serializer = Serializer();
        // A provenance file and a plain photo, with an author: every list of the verdict is filled.
        string jobId = $"state-{Guid.NewGuid():N}";
        var job = new ScoreJob(
            jobId,
            [ImageRef.FromFile(Path.Combine(TestAssets.ProvenanceSamplesDir, "prov_0035.png")), ImageRef.FromFile(TestAssets.Photo)],
            new JobMetadata(Author: "state-author", DeclaredAi: false, Tags: ["a", "b"]));
        JobVerdict scored = await fixture.Grains.GetGrain<IJobGrain>(jobId).ScoreAsync(job);
        // The grain call copied the verdict into plain collections; the grain stores the policy's own objects, as here.
        JobVerdict verdict = VerdictPolicy.Merge(jobId, scored.Images, job.Metadata, new VerdictOptions(), scored.Model, scored.CompletedAt) with { Author = scored.Author };
        Assert.NotEmpty(verdict.Reasons!);

        JobState read = serializer.Deserialize<JobState>(serializer.Serialize(new JobState { Verdict = verdict, PublishedAt = DateTimeOffset.UtcNow }))!;

        Assert.Equal(verdict.Reasons, read.Verdict!.Reasons);
        Assert.Equal(verdict.Images.Select(i => (i.Label, i.AiProbability, i.Sha256)), read.Verdict.Images.Select(i => (i.Label, i.AiProbability, i.Sha256)));
        Assert.Equal(verdict.Images.Select(i => i.Reasons), read.Verdict.Images.Select(i => i.Reasons));
        Assert.Equal(verdict.Images.Select(i => i.Evidence?.Count), read.Verdict.Images.Select(i => i.Evidence?.Count));
        Assert.Equal(verdict.Author, read.Verdict.Author);
    }

    [Fact]
    public void AuthorAndModelCatalogState_ReadBack()
    {
        IGrainStorageSerializer serializer = Serializer();
        var author = new AuthorState { Jobs = 3, AiVerdicts = 2, Recent = new Queue<string>(["j1", "j2"]) };

        AuthorState readAuthor = serializer.Deserialize<AuthorState>(serializer.Serialize(author))!;

        Assert.Equal(["j1", "j2"], readAuthor.Recent);
        Assert.Equal(2, readAuthor.AiVerdicts);
        Assert.NotNull(serializer.Deserialize<ModelCatalogState>(serializer.Serialize(new ModelCatalogState())));
    }

    /// <summary>The serializer the silo's grain storage uses (Redis grain storage takes the same one by default).</summary>
    private IGrainStorageSerializer Serializer() =>
        ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost!.Services.GetRequiredService<IGrainStorageSerializer>();
}
