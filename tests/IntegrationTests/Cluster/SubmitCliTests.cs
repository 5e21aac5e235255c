using System.Text.Json;
using ArtGrid.Contracts;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// <c>artgrid submit</c>, run as a process, against the real cluster: the job metadata it sends reaches the verdict, and
/// a URL becomes a URL reference that silos without URL fetching refuse. Read back from the job records in Redis.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class SubmitCliTests(ServersFixture cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task SubmitSendsTheJobMetadata_AndTheVerdictsInRedisCarryTheAuthor()
    {
        await cluster.EnsureSilosAsync(2);
        string author = $"cli-author-{cluster.RunId}";
        string[] images = [.. TestAssets.SampleImages.Take(2)];
        const string url = "http://127.0.0.1:1/never-fetched.png";

        (int exit, string stdout, string stderr) = await CliTests.RunAsync(
            "submit", images[0], images[1], "--url", url,
            "--author", author, "--source", "cli-test", "--licence", "CC0-1.0", "--declared-ai", "false", "--tag", "cli", "--tag", "parity",
            "--bus", TestServers.RabbitMq.ToString(), "--redis", TestServers.Redis, "--queue", cluster.QueueName);

        Assert.True(exit == 0, stderr);
        var sent = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([images[0], images[1], url], sent.Select(l => Assert.Single(l.GetProperty("paths").EnumerateArray()).GetString()));
        Assert.All(sent, l => Assert.Equal(JsonValueKind.Null, l.GetProperty("error").ValueKind));
        string[] ids = [.. sent.Select(l => l.GetProperty("jobId").GetString()!)];

        JobRecord[] records = await Task.WhenAll(ids.Select(WaitForOutcomeAsync));

        // The files' jobs: scored, with the author's context as of each verdict (the two jobs counted one after the other)
        // and the declaration "human" weighed against the label.
        JobRecord[] scored = records[..2];
        Assert.All(scored, r => Assert.Equal(JobStatus.Completed, r.Status));
        JobVerdict[] verdicts = [.. scored.Select(r => r.Verdict!)];
        Assert.All(verdicts, v => Assert.Equal(author, v.Author?.Author));
        Assert.Equal([1L, 2L], verdicts.Select(v => v.Author!.Jobs).Order());
        Assert.All(verdicts, v => Assert.Equal(v.Label == Labels.Ai, v.Conflict));
        AuthorContext last = verdicts.MaxBy(v => v.Author!.Jobs)!.Author!;
        Assert.Equal(verdicts.Count(v => v.Label == Labels.Ai), last.UndeclaredAi);
        Assert.Equal(verdicts.Count(v => v.Conflict), last.Conflicts);
        Assert.Equal(images.Select(Path.GetFileName), verdicts.Select(v => Assert.Single(v.Images).Name));

        // The URL's job: a URL reference, refused by silos that do not fetch URLs (ArtGrid:UrlFetch:Enabled is off).
        Assert.Equal(JobStatus.Rejected, records[2].Status);
        Assert.Equal(RejectionCodes.UnresolvableImage, records[2].Rejection!.Code);
        Assert.Contains("url_disabled", records[2].Rejection!.Reason, StringComparison.Ordinal);
        output.WriteLine($"labels {string.Join(", ", verdicts.Select(v => v.Label))}; author {last}; url job: {records[2].Rejection!.Reason}");
    }

    private async Task<JobRecord> WaitForOutcomeAsync(string jobId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        while (true)
        {
            if (await cluster.Records.GetAsync(jobId) is { Status: JobStatus.Completed or JobStatus.Rejected } record)
            {
                return record;
            }

            Assert.False(timeout.IsCancellationRequested, $"job {jobId} has no verdict after 5 minutes\n{cluster.LogTails()}");
            await Task.Delay(100);
        }
    }
}
