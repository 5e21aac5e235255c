using System.Security.Cryptography;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A job of more images than a share holds (<c>ArtGrid:Jobs:ShareImages</c>, 8) is scored in shares that go to the
/// silos in turn, and its verdict is the job's, in the job's order, as if one silo had scored it.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class LargeJobTests(ServersFixture cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task AJobOfTwentyImages_IsScoredInThreeShares_AndAnsweredInItsOwnOrder()
    {
        await cluster.EnsureSilosAsync(2);
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(20, seed: 41);
        string jobId = $"{cluster.RunId}-large-job";
        var data = new ImageData(cluster.MessageData);
        var command = new ScoreImages
        {
            JobId = jobId,
            Images = [.. await Task.WhenAll(images.Select(async image => new ImageReference { Name = image.Name, Data = await data.OfAsync(image.Bytes) }))],
            SubmittedAt = DateTimeOffset.UtcNow,
        };
        IRequestClient<ScoreImages> client = cluster.Bus.CreateRequestClient<ScoreImages>(cluster.Queue, RequestTimeout.After(m: 5));
        Response<ImagesScored> response = await client.GetResponse<ImagesScored>(command).WaitAsync(TimeSpan.FromMinutes(6));

        JobVerdict verdict = response.Message.Verdict;
        Assert.Equal(images.Count, verdict.Images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            ImageScore score = verdict.Images[i];
            Assert.Equal(i, score.Index);
            Assert.Equal(images[i].Name, score.Name);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(images[i].Bytes)), score.Sha256);
            Assert.Null(score.Error);
            Assert.InRange(score.AiProbability!.Value, 0, 1);
        }

        Assert.Equal(verdict.Images.Max(i => i.AiProbability), verdict.AiProbability);

        // Three shares (0-7, 8-15, 16-19), each scored once, on the silos in turn: both silos took part.
        string[] shares = [$"{jobId}/0: images 0-7", $"{jobId}/1: images 8-15", $"{jobId}/2: images 16-19"];
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (string share in shares)
        {
            string[] on = [.. cluster.Silos.Where(s => s.Log.Contains($"Share {share} scored on {s.Name}", StringComparison.Ordinal)).Select(s => s.Name)];
            output.WriteLine($"share {share}: {string.Join(", ", on)}");
            used.Add(Assert.Single(on));
        }

        Assert.Equal(2, used.Count);
    }
}
