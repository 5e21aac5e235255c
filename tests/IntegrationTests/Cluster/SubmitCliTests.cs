using System.Collections.Concurrent;
using System.Text.Json;
using ArtGrid.Contracts;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// <c>artgrid submit</c>, run as a process, against the real cluster: the job metadata it sends reaches the verdict, and
/// a URL becomes a URL reference that silos without URL fetching refuse, and <c>--by-hash</c> sends bytes only for images
/// the cluster has not scored. Read back from the job records in Redis and the published events.
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

    [Fact]
    public async Task SubmitByHash_SendsTheBytesOnlyOfImagesTheClusterHasNotScored()
    {
        await cluster.EnsureSilosAsync(2);
        string folder = Directory.CreateTempSubdirectory("artgrid-by-hash-").FullName;
        try
        {
            IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(2, seed: 1043);
            foreach ((string name, byte[] bytes) in images)
            {
                await File.WriteAllBytesAsync(Path.Combine(folder, name), bytes);
            }

            string[] hashes = [.. images.Select(i => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(i.Bytes)))];
            string[] arguments = ["submit", folder, "--wait", "--by-hash", "--bus", TestServers.RabbitMq.ToString(), "--redis", TestServers.Redis, "--queue", cluster.QueueName];

            // Without --wait a not_cached answer would go unheard: a usage error.
            (int usage, _, string usageError) = await CliTests.RunAsync([.. arguments.Where(a => a != "--wait")]);
            Assert.Equal(2, usage);
            Assert.Contains("--by-hash needs --wait", usageError, StringComparison.Ordinal);

            // Twice: the first run's hashes miss and the jobs go again with their bytes; the second is answered by hash.
            var runs = new List<JsonElement[]>();
            for (int run = 0; run < 2; run++)
            {
                (int exit, string stdout, string stderr) = await CliTests.RunAsync(arguments);
                Assert.True(exit == 0, stderr);
                JsonElement[] lines = [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
                Assert.Equal(2, lines.Length);
                Assert.All(lines, l => Assert.Equal(JsonValueKind.Null, l.GetProperty("error").ValueKind));
                Assert.Equal(hashes.Order(), lines.Select(l => l.GetProperty("sha256").GetString()!).Order());
                runs.Add(lines);
            }

            Assert.Equal(runs[0].Select(l => l.GetProperty("aiProbability").GetDouble()), runs[1].Select(l => l.GetProperty("aiProbability").GetDouble()));

            // What reached the cluster: per image, a not_cached rejection, an uncached verdict whose bytes reviewers have,
            // then a cached verdict of a job that carried no bytes. The events come on the test bus's own queue, which may
            // lag behind the replies the CLI waited for: wait for all four before reading them.
            ImagesScored[] Verdicts() => [.. cluster.Events.Scored.Values.SelectMany(q => q).Where(e => hashes.Contains(e.Verdict.Images[0].Sha256))];
            await cluster.Events.WaitForAsync(() => Verdicts() is { Length: >= 4 } all ? all : null, TimeSpan.FromSeconds(30));
            ImagesScored[] verdicts = Verdicts();
            Assert.Equal(4, verdicts.Length);
            foreach (ImagesScored verdict in verdicts)
            {
                Uri? bytes = await cluster.Records.GetImageAddressAsync(verdict.JobId, 0);
                Assert.True(verdict.Verdict.Images[0].Cached == (bytes is null), $"job {verdict.JobId}: cached {verdict.Verdict.Images[0].Cached}, bytes at {bytes}");
            }

            Assert.Equal(2, verdicts.Count(v => v.Verdict.Images[0].Cached));
            string[] uncachedJobs = [.. verdicts.Where(v => !v.Verdict.Images[0].Cached).Select(v => v.JobId)];
            foreach (string id in uncachedJobs)
            {
                ConcurrentQueue<ScoreImagesRejected>? rejections = await cluster.Events.WaitForAsync(() => cluster.Events.Rejected.GetValueOrDefault(id), TimeSpan.FromSeconds(30));
                Assert.NotNull(rejections);
                Assert.Equal(RejectionCodes.NotCached, Assert.Single(rejections).Code);
            }

            output.WriteLine($"by hash: {string.Join(", ", verdicts.Select(v => $"{v.JobId} cached={v.Verdict.Images[0].Cached}"))}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
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
