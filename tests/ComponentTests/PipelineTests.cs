using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ArtGrid.GrainInterfaces;
using ArtGrid.Inference.Diagnostics;

namespace ArtGrid.Tests;

[Collection(ClusterCollection.Name)]
public sealed class PipelineTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AJobOfSeveralImagesIsScoredAndMergedAndBadImagesFailAlone()
    {
        string[] samples = [.. TestAssets.SampleImages.Take(3)];
        (string name, byte[] bytes, string code) = TestAssets.BadFiles().Single(f => f.Name == "truncated.jpg");
        var job = new ScoreJob(
            $"pipeline-{Guid.NewGuid():N}",
            [.. samples.Select(ImageRef.FromFile), ImageRef.FromBytes(name, bytes)],
            new JobMetadata(Author: "test", Source: "unit"));

        JobVerdict verdict = await fixture.Grains.GetGrain<IJobGrain>(job.JobId).ScoreAsync(job);

        Assert.Equal(job.JobId, verdict.JobId);
        Assert.Equal(TestAssets.DefaultModelId, verdict.Model);
        Assert.Equal(4, verdict.Images.Count);
        Assert.Equal([0, 1, 2, 3], verdict.Images.Select(i => i.Index));
        foreach (ImageScore image in verdict.Images.Take(3))
        {
            Assert.Null(image.Error);
            Assert.InRange(image.AiProbability!.Value, 0.0, 1.0);
            Assert.Contains(image.Label, new[] { Labels.Ai, Labels.Human, Labels.Uncertain });
            Assert.Equal(64, image.Sha256!.Length);
        }

        ImageScore bad = verdict.Images[3];
        Assert.Equal(code, bad.Error!.Code);
        Assert.Null(bad.AiProbability);
        Assert.Null(bad.Label);
        Assert.Equal(verdict.Images.Take(3).Max(i => i.AiProbability), verdict.AiProbability);

        // The same job id again returns the first verdict rather than scoring twice.
        JobVerdict again = await fixture.Grains.GetGrain<IJobGrain>(job.JobId).ScoreAsync(job);
        Assert.Equal(verdict.CompletedAt, again.CompletedAt);
        JobVerdict? stored = await fixture.Grains.GetGrain<IJobGrain>(job.JobId).GetVerdictAsync();
        Assert.Equal((verdict.CompletedAt, verdict.AiProbability), (stored!.CompletedAt, stored.AiProbability));
        Assert.Equal(verdict.Images.Select(i => i.Sha256), stored.Images.Select(i => i.Sha256));
    }

    [Fact]
    public async Task TheSameContentUnderAnotherJobIsAnsweredFromTheCache()
    {
        byte[] bytes = File.ReadAllBytes(TestAssets.SampleImages[^1]);
        var first = new ScoreJob($"cache-a-{Guid.NewGuid():N}", [ImageRef.FromBytes("a.jpg", bytes)], JobMetadata.None);
        var second = new ScoreJob($"cache-b-{Guid.NewGuid():N}", [ImageRef.FromBytes("b.jpg", bytes)], JobMetadata.None);

        ImageScore scored = (await fixture.Grains.GetGrain<IJobGrain>(first.JobId).ScoreAsync(first)).Images[0];
        ImageScore cached = (await fixture.Grains.GetGrain<IJobGrain>(second.JobId).ScoreAsync(second)).Images[0];

        Assert.False(scored.Cached);
        Assert.True(cached.Cached);
        Assert.Equal(scored.Sha256, cached.Sha256);
        Assert.Equal(scored.AiProbability, cached.AiProbability);
        Assert.Equal("b.jpg", cached.Name);
    }

    [Fact]
    public async Task AnImageNamedByItsHash_IsItsCachedScore_OrFailsNotCachedAlone()
    {
        byte[] distinct = [.. File.ReadAllBytes(TestAssets.Photo), .. Guid.NewGuid().ToByteArray()]; // trailing bytes: a hash no test has cached
        string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(distinct));

        // Not cached yet: that image fails not_cached, the job's other image is scored.
        var early = new ScoreJob($"hash-early-{Guid.NewGuid():N}", [ImageRef.FromHash("h.jpg", sha256.ToUpperInvariant()), ImageRef.FromFile(TestAssets.SampleImages[0])], JobMetadata.None);
        JobVerdict missed = await fixture.Grains.GetGrain<IJobGrain>(early.JobId).ScoreAsync(early);
        Assert.Equal(ErrorCodes.NotCached, missed.Images[0].Error?.Code);
        Assert.Equal(sha256, missed.Images[0].Sha256);
        Assert.Null(missed.Images[1].Error);

        // Scored from its bytes once, then named by its hash: the cached score.
        var bytes = new ScoreJob($"hash-bytes-{Guid.NewGuid():N}", [ImageRef.FromBytes("b.jpg", distinct)], JobMetadata.None);
        ImageScore scored = (await fixture.Grains.GetGrain<IJobGrain>(bytes.JobId).ScoreAsync(bytes)).Images[0];
        var byHash = new ScoreJob($"hash-late-{Guid.NewGuid():N}", [ImageRef.FromHash("h.jpg", sha256)], JobMetadata.None);
        ImageScore hit = (await fixture.Grains.GetGrain<IJobGrain>(byHash.JobId).ScoreAsync(byHash)).Images[0];

        Assert.False(scored.Cached);
        Assert.Equal(sha256, scored.Sha256);
        Assert.True(hit.Cached, hit.Error?.Message);
        Assert.Equal(scored.AiProbability, hit.AiProbability);
        Assert.Equal(scored.ClassifierLabel, hit.ClassifierLabel);
        Assert.Equal("h.jpg", hit.Name);
    }

    [Fact]
    public async Task ManyConcurrentImagesAreBatchedWithoutLoss()
    {
        // 24 distinct images at once against a device queue of 8: the ingestion retries on the device's hint.
        byte[] photo = File.ReadAllBytes(TestAssets.Photo);
        var jobs = Enumerable.Range(0, 24).Select(i =>
        {
            byte[] distinct = [.. photo, .. BitConverter.GetBytes(i)]; // trailing bytes after EOI: same picture, new hash
            return new ScoreJob($"burst-{Guid.NewGuid():N}", [ImageRef.FromBytes($"p{i}.jpg", distinct)], JobMetadata.None);
        }).ToArray();

        JobVerdict[] verdicts = await Task.WhenAll(jobs.Select(j => fixture.Grains.GetGrain<IJobGrain>(j.JobId).ScoreAsync(j)));

        Assert.All(verdicts, v => Assert.Null(v.Images[0].Error));
        Assert.All(verdicts, v => Assert.False(v.Images[0].Cached));
        Assert.Equal(24, verdicts.Select(v => v.Images[0].Sha256).Distinct().Count());
        double p0 = verdicts[0].AiProbability!.Value;
        Assert.All(verdicts, v => Assert.Equal(p0, v.AiProbability!.Value, 5));
    }

    [Fact]
    public async Task ScoringRecordsBatchAndOutcomeMetrics()
    {
        var measurements = new ConcurrentBag<(string Instrument, long Value, string? Outcome)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ArtGridInstruments.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((i, value, tags, _) => measurements.Add((i.Name, value, null)));
        listener.SetMeasurementEventCallback<long>((i, value, tags, _) =>
            measurements.Add((i.Name, value, tags.ToArray().FirstOrDefault(t => t.Key == "outcome").Value as string)));
        listener.Start();

        byte[] photo = File.ReadAllBytes(TestAssets.Photo);
        var job = new ScoreJob(
            $"metrics-{Guid.NewGuid():N}",
            [ImageRef.FromBytes("a.jpg", [.. photo, 1]), ImageRef.FromBytes("b.jpg", [.. photo, 2]), ImageRef.FromBytes("empty.jpg", [])],
            JobMetadata.None);
        await fixture.Grains.GetGrain<IJobGrain>(job.JobId).ScoreAsync(job);

        Assert.True(measurements.Where(m => m.Instrument == "artgrid.inference.batch.size").Sum(m => m.Value) >= 2);
        string?[] outcomes = [.. measurements.Where(m => m.Instrument == "artgrid.images.scored").Select(m => m.Outcome)];
        Assert.Contains(ErrorCodes.EmptyFile, outcomes);
        Assert.True(outcomes.Count(o => o is Labels.Ai or Labels.Human or Labels.Uncertain) >= 2);
    }
}
