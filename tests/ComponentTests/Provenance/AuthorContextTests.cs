using ArtGrid.GrainInterfaces;

namespace ArtGrid.Tests.Provenance;

/// <summary>The author aggregate, through the grains.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AuthorContextTests(ClusterFixture fixture)
{
    // A generated image whose C2PA claim the cluster verifies (c2pa-rs's test roots, ClusterFixture): AI whatever the classifier says.
    private static readonly string C2paFile = Path.Combine(TestAssets.ProvenanceSamplesDir, "public", "c2pa-rs", "C.jpg");

    [Fact]
    public async Task VerdictsCarryTheAuthorsCountsAndAReplayIsNotCountedTwice()
    {
        string author = $"  Someone-{Guid.NewGuid():N} ";
        byte[] generated = File.ReadAllBytes(C2paFile);
        byte[] clipart = File.ReadAllBytes(TestAssets.SampleImages.Single(p => p.Contains("clipart", StringComparison.Ordinal)));

        JobVerdict first = await ScoreAsync("declared", generated, new JobMetadata(Author: author, DeclaredAi: true));
        JobVerdict second = await ScoreAsync("undeclared", generated, new JobMetadata(Author: author));
        JobVerdict third = await ScoreAsync("denied", generated, new JobMetadata(Author: author.ToUpperInvariant(), DeclaredAi: false));
        JobVerdict fourth = await ScoreAsync("drawing", clipart, new JobMetadata(Author: author, DeclaredAi: false));

        Assert.Equal(new AuthorContext(author.Trim().ToLowerInvariant(), 1, 1, 0, 0), first.Author);
        Assert.Equal(new AuthorContext(author.Trim().ToLowerInvariant(), 2, 2, 1, 0), second.Author);
        Assert.True(third.Conflict);
        Assert.Equal(new AuthorContext(author.Trim().ToLowerInvariant(), 3, 3, 2, 1), third.Author);
        Assert.Equal(Labels.Human, fourth.Label); // the clipart sample scores human: nothing added but the job
        Assert.Equal(new AuthorContext(author.Trim().ToLowerInvariant(), 4, 3, 2, 1), fourth.Author);

        // Recording the same job again (a replay that got past the job grain) changes nothing.
        IAuthorGrain grain = fixture.Grains.GetGrain<IAuthorGrain>(author.Trim().ToLowerInvariant());
        Assert.Equal(fourth.Author, await grain.RecordAsync(third.JobId, Labels.Ai, false, true));
    }

    private async Task<JobVerdict> ScoreAsync(string tag, byte[] bytes, JobMetadata metadata)
    {
        string jobId = $"author-{tag}-{Guid.NewGuid():N}";
        return await fixture.Grains.GetGrain<IJobGrain>(jobId).ScoreAsync(new ScoreJob(jobId, [ImageRef.FromBytes(tag + ".png", bytes)], metadata));
    }
}
