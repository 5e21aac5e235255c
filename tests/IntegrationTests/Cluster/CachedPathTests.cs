using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using StackExchange.Redis;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// The cheap path of a job, on the real cluster: small images carried in the message itself (no claim check), large
/// ones still claim-checked, a job the result cache answers whole made without a grain, and the job record as the
/// verdict that stands when a crash left the grain without state; a re-upload sent by its content hash alone.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class CachedPathTests(ServersFixture cluster)
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task ASmallImage_TravelsInTheMessage_IsScored_AndReviewersStillGetItsBytes()
    {
        await cluster.EnsureSilosAsync(2);
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 31)[0];
        Assert.InRange(bytes.Length, 1, ImageData.InlineLimitBytes);

        MessageData<byte[]> data = await new ImageData(cluster.MessageData).OfAsync(bytes);
        Assert.True(ImageData.IsInline(data));
        Assert.Null(ImageData.AddressOf(data));

        ImagesScored scored = await ScoreAsync($"{cluster.RunId}-inline", name, data);
        ImageScore image = Assert.Single(scored.Verdict.Images);
        Assert.Null(image.Error);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), image.Sha256);

        // The consumer kept a copy where reviewers read claim-checked images, in the round trip that recorded the job.
        Uri? address = await cluster.Records.GetImageAddressAsync(scored.JobId, 0);
        Assert.NotNull(address);
        Assert.Equal(bytes, await ReadAsync(address));
    }

    [Fact]
    public async Task WhatTheProducerSendsInline_ArrivesInline_AndAClaimCheckAsAnAddress()
    {
        // MassTransit stores inline data over its own threshold in the repository when the message is sent, unless the
        // bus is configured as ArtGrid's are: a consumer on a queue of its own sees what a silo would.
        string queue = $"{cluster.RunId}-inline-probe";
        var received = new TaskCompletionSource<ScoreImages>(TaskCreationOptions.RunContinuationsAsynchronously);
        HostReceiveEndpointHandle handle = cluster.Bus.ConnectReceiveEndpoint(queue, endpoint =>
        {
            endpoint.Handler<ScoreImages>(context =>
            {
                received.TrySetResult(context.Message);
                return Task.CompletedTask;
            });
        });
        try
        {
            await handle.Ready.WaitAsync(Wait);
            (_, byte[] small) = cluster.DistinctImages(1, seed: 37)[0];
            byte[] large = LargeImage();
            var data = new ImageData(cluster.MessageData);
            ISendEndpoint endpoint = await cluster.Bus.GetSendEndpoint(new Uri($"queue:{queue}"));
            await endpoint.Send(new ScoreImages
            {
                JobId = $"{cluster.RunId}-inline-probe",
                Images = [new ImageReference { Name = "small.jpg", Data = await data.OfAsync(small) }, new ImageReference { Name = "large.jpg", Data = await data.OfAsync(large) }],
                SubmittedAt = DateTimeOffset.UtcNow,
            });

            ScoreImages message = await received.Task.WaitAsync(Wait);
            Assert.True(ImageData.IsInline(message.Images[0].Data), "the small image arrived as a claim check");
            Assert.Equal(small, await message.Images[0].Data!.Value);
            Assert.NotNull(ImageData.AddressOf(message.Images[1].Data));
            Assert.Equal(large, await message.Images[1].Data!.Value);
        }
        finally
        {
            await handle.StopAsync();
            await TestServers.DeleteQueuesAsync(queue);
        }
    }

    [Fact]
    public async Task ALargeImage_IsStillClaimChecked_AndScored()
    {
        await cluster.EnsureSilosAsync(2);
        byte[] bytes = LargeImage();
        Assert.True(bytes.Length > ImageData.InlineLimitBytes, $"the test image has {bytes.Length} bytes");

        MessageData<byte[]> data = await new ImageData(cluster.MessageData).OfAsync(bytes);
        Assert.False(ImageData.IsInline(data));
        Uri address = Assert.IsType<Uri>(ImageData.AddressOf(data));
        Assert.Equal(bytes, await ReadAsync(address));

        ImagesScored scored = await ScoreAsync($"{cluster.RunId}-large", "large.jpg", data);
        ImageScore image = Assert.Single(scored.Verdict.Images);
        Assert.Null(image.Error);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), image.Sha256);
        Assert.Equal(address, await cluster.Records.GetImageAddressAsync(scored.JobId, 0));
    }

    [Fact]
    public async Task AVerdictRecordedButNeverStoredByItsGrain_IsTheOneAnsweredAndPublished_AndNothingIsScoredAgain()
    {
        // What a crash between the completion's record and the grain's one state write leaves: a completed job record,
        // no grain state. A real verdict of another job stands in for the one the crashed attempt recorded.
        await cluster.EnsureSilosAsync(2);
        (string name, byte[] bytes) = cluster.DistinctImages(2, seed: 33)[0];
        ImagesScored donor = await ScoreAsync($"{cluster.RunId}-donor", name, await new ImageData(cluster.MessageData).OfAsync(bytes));
        string jobId = $"{cluster.RunId}-recorded";
        JobVerdict recorded = donor.Verdict with { JobId = jobId, CompletedAt = donor.Verdict.CompletedAt.AddMinutes(-1) };
        Assert.Equal(recorded.CompletedAt, (await cluster.Records.CompletedAsync(recorded)).CompletedAt);

        // The first completed record stands: another attempt's verdict does not replace it.
        JobVerdict later = recorded with { CompletedAt = recorded.CompletedAt.AddSeconds(30), AiProbability = 0.5 };
        Assert.Equal(recorded.CompletedAt, (await cluster.Records.CompletedAsync(later)).CompletedAt);
        Assert.Equal(recorded.CompletedAt, (await cluster.Records.GetAsync(jobId))!.Verdict!.CompletedAt);

        // The command delivered again (with another image, which must not be scored): the recorded verdict is
        // answered and published, once; a further delivery is answered from the record, marked published since, and publishes nothing.
        (string otherName, byte[] otherBytes) = cluster.DistinctImages(2, seed: 33)[1];
        for (int delivery = 0; delivery < 2; delivery++)
        {
            ImagesScored answer = await ScoreAsync(jobId, otherName, await new ImageData(cluster.MessageData).OfAsync(otherBytes));
            Assert.Equal(recorded.CompletedAt, answer.Verdict.CompletedAt);
            Assert.Equal(recorded.AiProbability, answer.Verdict.AiProbability);
            Assert.Equal(donor.Verdict.Images[0].Sha256, Assert.Single(answer.Verdict.Images).Sha256);
        }

        Assert.NotNull(await cluster.Events.WaitForAsync(() => cluster.Events.Scored.GetValueOrDefault(jobId), TimeSpan.FromSeconds(30)));
        await Task.Delay(TimeSpan.FromSeconds(2)); // room for a second publication to show up, were there one
        ImagesScored published = Assert.Single(cluster.Events.Scored[jobId]);
        Assert.Equal(recorded.CompletedAt, published.Verdict.CompletedAt);
        Assert.Equal(JobStatus.Completed, (await cluster.Records.GetAsync(jobId))!.Status);
    }

    [Fact]
    public async Task AJobTheCacheAnswersWhole_GetsNoGrain_ItsRecordIsMarkedPublished_AndADeliveryAgainPublishesNothing()
    {
        await cluster.EnsureSilosAsync(2);
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 35)[0];
        ImagesScored first = await ScoreAsync($"{cluster.RunId}-uncached", name, await new ImageData(cluster.MessageData).OfAsync(bytes));
        Assert.False(Assert.Single(first.Verdict.Images).Cached);

        // The same bytes as another job: every image is a cache hit, so the consumer makes the verdict itself.
        string jobId = $"{cluster.RunId}-whole-hit";
        ImagesScored hit = await ScoreAsync(jobId, name, await new ImageData(cluster.MessageData).OfAsync(bytes));
        ImageScore image = Assert.Single(hit.Verdict.Images);
        Assert.True(image.Cached);
        Assert.Equal(first.Verdict.Images[0].Sha256, image.Sha256);
        Assert.Equal(first.Verdict.AiProbability, hit.Verdict.AiProbability);
        Assert.Equal(first.Verdict.Label, hit.Verdict.Label);

        // Recorded, and marked published once the broker took the event.
        JobRecord? record = await cluster.PublishedRecordAsync(jobId);

        Assert.Equal(JobStatus.Completed, record!.Status);
        Assert.NotNull(record.PublishedAt);
        Assert.Equal(hit.Verdict.CompletedAt, record.Verdict!.CompletedAt);

        // No job grain kept state for it, where the uncached job's grain did.
        IServer redis = (await cluster.Redis.GetAsync()).GetServers()[0];
        Assert.NotEmpty(redis.Keys(pattern: $"{cluster.RunId}/state/job/{first.JobId}*").Take(1));
        Assert.Empty(redis.Keys(pattern: $"{cluster.RunId}/state/job/{jobId}*").Take(1));

        // Delivered again: answered from the record, the same verdict, and no second event.
        ImagesScored again = await ScoreAsync(jobId, name, await new ImageData(cluster.MessageData).OfAsync(bytes));
        Assert.Equal(hit.Verdict.CompletedAt, again.Verdict.CompletedAt);
        Assert.NotNull(await cluster.Events.WaitForAsync(() => cluster.Events.Scored.GetValueOrDefault(jobId), TimeSpan.FromSeconds(30)));
        await Task.Delay(TimeSpan.FromSeconds(2)); // room for a second publication to show up, were there one
        Assert.Single(cluster.Events.Scored[jobId]);
    }

    [Fact]
    public async Task AnImageSentByItsHash_IsAnsweredFromTheCache_AndAHashTheCacheLacks_IsRejectedUnrecorded_UntilTheBytesCome()
    {
        await cluster.EnsureSilosAsync(2);
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 1039)[0];
        string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var byHash = new ImageReference { Name = name, Sha256 = sha256 };

        // Never scored: rejected not_cached, naming the image, and nothing recorded against the job id...
        string jobId = $"{cluster.RunId}-by-hash";
        ScoreImagesRejected missed = Assert.IsType<ScoreImagesRejected>(await AskAsync(jobId, byHash));
        Assert.Equal(RejectionCodes.NotCached, missed.Code);
        Assert.Equal(0, missed.ImageIndex);
        Assert.Contains(sha256, missed.Reason, StringComparison.Ordinal);
        Assert.NotEqual(JobStatus.Rejected, (await cluster.Records.GetAsync(jobId))?.Status);

        // ...so that the same job id with the bytes is scored.
        ImagesScored scored = Assert.IsType<ImagesScored>(await AskAsync(jobId, new ImageReference { Name = name, Data = await new ImageData(cluster.MessageData).OfAsync(bytes) }));
        ImageScore first = Assert.Single(scored.Verdict.Images);
        Assert.False(first.Cached);
        Assert.Equal(sha256, first.Sha256);

        // Another job, the hash alone (in capitals too): the cached score, with no bytes sent, recorded and published.
        foreach ((string id, string hash) in new[] { ($"{cluster.RunId}-by-hash-again", sha256), ($"{cluster.RunId}-by-hash-upper", sha256.ToUpperInvariant()) })
        {
            ImagesScored hit = Assert.IsType<ImagesScored>(await AskAsync(id, byHash with { Sha256 = hash }));
            ImageScore image = Assert.Single(hit.Verdict.Images);
            Assert.True(image.Cached);
            Assert.Null(image.Error);
            Assert.Equal(sha256, image.Sha256);
            Assert.Equal(name, image.Name);
            Assert.Equal(first.AiProbability, image.AiProbability);
            Assert.Equal(scored.Verdict.Label, hit.Verdict.Label);
            JobRecord? record = await cluster.PublishedRecordAsync(id);
            Assert.Equal(JobStatus.Completed, record!.Status);
            Assert.Null(await cluster.Records.GetImageAddressAsync(id, 0)); // no bytes were sent, so reviewers have none
        }
    }

    [Fact]
    public async Task AJobOfANewImageAndAKnownHash_IsScoredWhole_TheNewOneInferredAndTheHashFromTheCache()
    {
        await cluster.EnsureSilosAsync(2);
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(2, seed: 1041); // seeds of its own: another test's images would be cached
        ImagesScored known = await ScoreAsync($"{cluster.RunId}-known", images[0].Name, await new ImageData(cluster.MessageData).OfAsync(images[0].Bytes));
        string sha256 = Assert.Single(known.Verdict.Images).Sha256!;

        var data = new ImageData(cluster.MessageData);
        ImagesScored mixed = Assert.IsType<ImagesScored>(await AskAsync(
            $"{cluster.RunId}-mixed",
            new ImageReference { Name = images[1].Name, Data = await data.OfAsync(images[1].Bytes) },
            new ImageReference { Name = images[0].Name, Sha256 = sha256 }));
        ImageScore[] scores = [.. mixed.Verdict.Images.OrderBy(s => s.Index)];
        Assert.Equal(2, scores.Length);
        Assert.All(scores, s => Assert.Null(s.Error));
        Assert.False(scores[0].Cached);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(images[1].Bytes)), scores[0].Sha256);
        Assert.True(scores[1].Cached);
        Assert.Equal(known.Verdict.Images[0].AiProbability, scores[1].AiProbability);
    }

    // A request of the images, answered with the verdict or the rejection.
    private async Task<object> AskAsync(string jobId, params ImageReference[] images)
    {
        IRequestClient<ScoreImages> client = cluster.Bus.CreateRequestClient<ScoreImages>(cluster.Queue, RequestTimeout.After(m: 3));
        Response<ImagesScored, ScoreImagesRejected> response = await client
            .GetResponse<ImagesScored, ScoreImagesRejected>(new ScoreImages { JobId = jobId, Images = images, SubmittedAt = DateTimeOffset.UtcNow })
            .WaitAsync(Wait);
        return response.Message;
    }

    private async Task<ImagesScored> ScoreAsync(string jobId, string name, MessageData<byte[]> data)
    {
        IRequestClient<ScoreImages> client = cluster.Bus.CreateRequestClient<ScoreImages>(cluster.Queue, RequestTimeout.After(m: 3));
        var command = new ScoreImages
        {
            JobId = jobId,
            Images = [new ImageReference { Name = name, Data = data }],
            SubmittedAt = DateTimeOffset.UtcNow,
        };
        Response<ImagesScored> response = await client.GetResponse<ImagesScored>(command).WaitAsync(Wait);
        Assert.Equal(jobId, response.Message.JobId);
        return response.Message;
    }

    private async Task<byte[]> ReadAsync(Uri address)
    {
        await using Stream stream = await cluster.MessageData.Get(address);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    // A sample upscaled to 2000 pixels wide at JPEG quality 98: a real photo-like image over the inline limit.
    private static byte[] LargeImage()
    {
        using Image<Rgb24> image = Image.Load<Rgb24>(TestAssets.SampleImages[0]);
        image.Mutate(x => x.Resize(2000, 0));
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 98 });
        return stream.ToArray();
    }
}
