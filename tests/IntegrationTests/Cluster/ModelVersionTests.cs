using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains;
using ArtGrid.Hosting.Caching;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// Model versions in the real cluster: switching the active version through the gateway while jobs flow, refusing
/// versions that are missing or do not load, and the CLI's <c>models</c> commands. Runs in the servers collection, so
/// that its own silos never compete with the other cluster tests for the cores.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class ModelVersionTests(ModelVersionsFixture fixture, ITestOutputHelper output) : IClassFixture<ModelVersionsFixture>
{
    private const string Version1 = $"{TestModelRepository.Name}/1";
    private const string Version2 = $"{TestModelRepository.Name}/2";
    private const int ImagesPerJob = 5;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task VersionSwitchUnderLoad_LosesNoJob()
    {
        ServersFixture cluster = fixture.Servers;
        await cluster.EnsureSilosAsync(2);
        await ActivateAsync("1"); // the starting point, whichever test ran first
        await Task.Delay(fixture.Refresh);

        // 60 distinct real images in 12 jobs of 5, claim-checked before anything is sent so that sending is quick. Only
        // images whose version-1 probability is away from 0.5 are used: for them p and 1 - p tell the versions apart.
        IReadOnlyList<(string Name, byte[] Bytes)> candidates = cluster.DistinctImages(90, seed: 7);
        double[] p1 = fixture.Version1Probabilities(candidates.Select(i => i.Bytes));
        var expected = candidates.Select((image, i) => (image.Name, P: p1[i])).Where(x => Math.Abs(x.P - 0.5) > 0.05).ToDictionary(x => x.Name, x => x.P);
        (string Name, byte[] Bytes)[] images = [.. candidates.Where(i => expected.ContainsKey(i.Name)).Take(60)];
        Assert.Equal(60, images.Length);
        ScoreImages[] jobs = await Task.WhenAll(images.Chunk(ImagesPerJob).Select((chunk, j) => CommandAsync($"{cluster.RunId}-switch-{j}", chunk)));
        string[] ids = [.. jobs.Select(j => j.JobId)];
        string[] before = ids[..6], during = ids[6..9], after = ids[9..];

        // Half the jobs go; as soon as the first verdict is out, the switch, with the rest of them in flight.
        await cluster.SendAllAsync(jobs[..6]);
        Assert.NotNull(await cluster.Events.WaitForAsync(() => before.FirstOrDefault(cluster.Events.Scored.ContainsKey), TimeSpan.FromMinutes(5)));
        string[] doneAtSwitch = [.. before.Where(cluster.Events.Scored.ContainsKey)];
        var clock = Stopwatch.StartNew();
        ActiveModelVersion switched = await ActivateAsync("2");
        TimeSpan switchTook = clock.Elapsed;
        Assert.Equal(Version2, switched.ModelId);

        // Jobs sent at once may get either version; those sent once the refresh interval has passed must get version 2.
        await cluster.SendAllAsync(jobs[6..9]);
        TimeSpan wait = fixture.Refresh - clock.Elapsed + switchTook;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        await cluster.SendAllAsync(jobs[9..]);
        Assert.True(await cluster.Events.WaitForScoredAsync(ids, TimeSpan.FromMinutes(10)), $"{cluster.Events.CountScored(ids)} of {ids.Length} verdicts arrived.\n{cluster.LogTails()}");

        var models = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (ScoreImages job in jobs)
        {
            // Exactly one verdict per job, with every image scored, none failed.
            JobVerdict verdict = Assert.Single(cluster.Events.Scored[job.JobId].Select(e => e.Verdict).DistinctBy(v => v.CompletedAt));
            Assert.Equal(job.Images.Select(i => i.Name), verdict.Images.OrderBy(i => i.Index).Select(i => i.Name));
            Assert.Contains(verdict.Model, new[] { Version1, Version2 });
            foreach (ImageScore image in verdict.Images)
            {
                Assert.True(image.Error is null, $"{job.JobId}/{image.Name}: {image.Error?.Code}: {image.Error?.Message}");
                Assert.Equal(verdict.Model, image.Model);
                double p = expected[image.Name];
                Assert.Equal(verdict.Model == Version1 ? p : 1 - p, image.AiProbability!.Value, tolerance: 1e-3);
            }

            models[job.JobId] = verdict.Model;
        }

        Assert.NotEmpty(doneAtSwitch);
        Assert.True(doneAtSwitch.Length < before.Length, "every job was done before the switch: it did not happen under load");
        Assert.All(doneAtSwitch, id => Assert.Equal(Version1, models[id]));
        Assert.All(after, id => Assert.Equal(Version2, models[id]));
        output.WriteLine($"switch acknowledged in {switchTook.TotalSeconds:0.00} s with {before.Length - doneAtSwitch.Length} of {before.Length} jobs unfinished; " +
                         $"versions: before {Describe(before, models)}; during {Describe(during, models)}; after {Describe(after, models)}");

        // The same content under both versions: two cache entries, p and 1 - p, and version 2 answers from its own.
        ImageScore old = cluster.Events.Scored[doneAtSwitch[0]].First().Verdict.Images[0];
        (string name, byte[] bytes) = images.Single(i => i.Name == old.Name);
        ImageScore rescored = await ScoreOneAsync($"{cluster.RunId}-rescore-1", name, bytes);
        ImageScore cached = await ScoreOneAsync($"{cluster.RunId}-rescore-2", name, bytes);
        Assert.Equal((Version2, false), (rescored.Model, rescored.Cached));
        Assert.Equal((Version2, true), (cached.Model, cached.Cached));
        Assert.Equal(1 - old.AiProbability!.Value, rescored.AiProbability!.Value, tolerance: 1e-3);
        Assert.Equal(rescored.AiProbability, cached.AiProbability);
        IDatabase redis = await cluster.Redis.GetDatabaseAsync();
        CachedScore entry1 = JsonSerializer.Deserialize<CachedScore>((string)(await redis.StringGetAsync(RedisResultCache.Key(old.Sha256!, Version1)))!, Json)!;
        CachedScore entry2 = JsonSerializer.Deserialize<CachedScore>((string)(await redis.StringGetAsync(RedisResultCache.Key(old.Sha256!, Version2)))!, Json)!;
        Assert.Equal(old.AiProbability.Value, entry1.AiProbability);
        Assert.Equal(rescored.AiProbability.Value, entry2.AiProbability);

        // Every silo that loaded version 1 noticed the switch on its own and unloaded version 1 once idle.
        SiloProcess[] loaded = [.. cluster.Silos.Where(s => s.Log.Contains($"Inference for {Version1} on {s.Name}/cpu:0 ready", StringComparison.Ordinal))];
        Assert.NotEmpty(loaded);
        foreach (SiloProcess silo in loaded)
        {
            await WaitForLogAsync(silo, $"now scores new jobs with {Version2}", TimeSpan.FromSeconds(90));
            await WaitForLogAsync(silo, $"Inference for {Version1} on {silo.Name}/cpu:0 released its session", TimeSpan.FromSeconds(90));
        }

        output.WriteLine($"{loaded.Length} silos had loaded version 1; all released it within {clock.Elapsed.TotalSeconds:0} s of the switch");
    }

    [Fact]
    public async Task MissingOrBrokenVersionsAreRefused_AndTheActiveVersionStays()
    {
        await fixture.Servers.EnsureSilosAsync(2);
        ModelListing listed = await ListingAsync();
        Assert.Equal(new[] { "1", "2", "3" }, listed.Versions);
        ActiveModelVersion active = listed.Active!;

        (HttpStatusCode status, string code, string error) = await RefusedAsync(TestModelRepository.Name, "3");
        Assert.Equal((HttpStatusCode.UnprocessableEntity, ModelVersionException.Invalid), (status, code));
        Assert.Contains($"{TestModelRepository.Name}/3' does not load", error, StringComparison.Ordinal);
        output.WriteLine($"version 3: {(int)status} {error}");

        (status, code, error) = await RefusedAsync(TestModelRepository.Name, "99");
        Assert.Equal((HttpStatusCode.NotFound, ModelVersionException.NotFound), (status, code));
        Assert.Contains("99", error, StringComparison.Ordinal);

        (status, code, _) = await RefusedAsync(TestModelRepository.Name, "../1");
        Assert.Equal((HttpStatusCode.BadRequest, ModelVersionException.BadName), (status, code));

        (status, code, _) = await RefusedAsync("no-such-model", "1");
        Assert.Equal((HttpStatusCode.NotFound, ModelVersionException.NotFound), (status, code));

        Assert.Equal(HttpStatusCode.BadRequest, (await fixture.Gateway.Http.PutAsJsonAsync($"/models/{TestModelRepository.Name}/active", new { })).StatusCode);

        Assert.Equal(active, (await ListingAsync()).Active);
    }

    [Fact]
    public async Task TheModelsCommandListsAndActivatesThroughTheGateway()
    {
        await fixture.Servers.EnsureSilosAsync(2);
        string gateway = fixture.Gateway.Address.ToString();
        string admin = fixture.Gateway.Keys["admin"];

        (int exit, string stdout, string stderr) = await CliTests.RunAsync("models", "list", "--gateway", gateway, "--api-key", fixture.Gateway.Keys["read"]);
        Assert.True(exit == 0, stderr);
        ModelListing listed = JsonSerializer.Deserialize<ModelListing>(Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)), Json)!;
        Assert.Equal(TestModelRepository.Name, listed.Name);
        Assert.Equal(new[] { "1", "2", "3" }, listed.Versions);
        string current = listed.Active!.Version;

        (exit, stdout, stderr) = await CliTests.RunAsync("models", "activate", TestModelRepository.Name, "3", "--gateway", gateway, "--api-key", admin);
        Assert.Equal(3, exit);
        Assert.Contains("does not load", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);

        (exit, stdout, stderr) = await CliTests.RunAsync("models", "activate", TestModelRepository.Name, current, "--gateway", gateway, "--api-key", admin);
        Assert.True(exit == 0, stderr);
        Assert.Equal(listed.Active, JsonSerializer.Deserialize<ActiveModelVersion>(stdout, Json));

        // A key without the scope, or none: refused, and said so.
        (exit, stdout, stderr) = await CliTests.RunAsync("models", "activate", TestModelRepository.Name, current, "--gateway", gateway, "--api-key", fixture.Gateway.Keys["read"]);
        Assert.Equal((4, string.Empty), (exit, stdout));
        Assert.Contains("admin", stderr, StringComparison.Ordinal);
        (exit, _, _) = await CliTests.RunAsync("models", "list", "--gateway", gateway);
        Assert.Equal(4, exit);

        (exit, _, stderr) = await CliTests.RunAsync("models", "list", "--gateway", "http://127.0.0.1:1");
        Assert.Equal(3, exit);
        Assert.Contains("did not answer", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsGetPrintsTheGatewaysJobAndSaysWhenThereIsNone()
    {
        await fixture.Servers.EnsureSilosAsync(2);
        string gateway = fixture.Gateway.Address.ToString();
        string jobId = $"{fixture.Servers.RunId}-jobs-get";
        HttpResponseMessage posted = await fixture.Gateway.Http.PostAsJsonAsync("/v1/jobs?wait=true", new
        {
            jobId,
            images = new[] { new { name = "cat.jpg", base64 = Convert.ToBase64String(await File.ReadAllBytesAsync(TestAssets.Photo)) } },
        });
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);

        (int exit, string stdout, string stderr) = await CliTests.RunAsync("jobs", "get", jobId, "--gateway", gateway, "--api-key", fixture.Gateway.Keys["read"]);
        Assert.True(exit == 0, stderr);
        using JsonDocument job = JsonDocument.Parse(Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal((jobId, "completed"), (job.RootElement.GetProperty("jobId").GetString(), job.RootElement.GetProperty("status").GetString()));
        Assert.Equal("cat.jpg", job.RootElement.GetProperty("verdict").GetProperty("images")[0].GetProperty("name").GetString());

        (exit, stdout, stderr) = await CliTests.RunAsync("jobs", "get", jobId + "-none", "--gateway", gateway, "--api-key", fixture.Gateway.Keys["read"]);
        Assert.Equal((1, string.Empty), (exit, stdout));
        Assert.Contains("No job", stderr, StringComparison.Ordinal);
        (exit, _, _) = await CliTests.RunAsync("jobs", "get", jobId, "--gateway", gateway, "--api-key", fixture.Gateway.Keys["score"]);
        Assert.Equal(4, exit);
    }

    private async Task<ActiveModelVersion> ActivateAsync(string version)
    {
        HttpResponseMessage response = await fixture.Gateway.Http.PutAsJsonAsync($"/models/{TestModelRepository.Name}/active", new { version });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ActiveModelVersion>(Json))!;
    }

    private async Task<(HttpStatusCode Status, string Code, string Error)> RefusedAsync(string name, string version)
    {
        HttpResponseMessage response = await fixture.Gateway.Http.PutAsJsonAsync($"/models/{Uri.EscapeDataString(name)}/active", new { version });
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, body.RootElement.GetProperty("modelCode").GetString()!, body.RootElement.GetProperty("detail").GetString()!);
    }

    private async Task<ModelListing> ListingAsync()
    {
        using JsonDocument body = JsonDocument.Parse(await fixture.Gateway.Http.GetStringAsync("/models"));
        return Assert.Single(body.RootElement.GetProperty("models").Deserialize<ModelListing[]>(Json)!);
    }

    private async Task<ScoreImages> CommandAsync(string jobId, IEnumerable<(string Name, byte[] Bytes)> images) => new()
    {
        JobId = jobId,
        Images = await Task.WhenAll(images.Select(async i => new ImageReference { Name = i.Name, Data = await ImageData.ClaimCheckAsync(fixture.Servers.MessageData, i.Bytes) })),
        Metadata = new JobMetadata(Source: "version-switch-test"),
        SubmittedAt = DateTimeOffset.UtcNow,
    };

    private async Task<ImageScore> ScoreOneAsync(string jobId, string name, byte[] bytes)
    {
        IRequestClient<ScoreImages> client = fixture.Servers.Bus.CreateRequestClient<ScoreImages>(fixture.Servers.Queue, RequestTimeout.After(m: 2));
        Response<ImagesScored> response = await client.GetResponse<ImagesScored>(await CommandAsync(jobId, [(name, bytes)]));
        return Assert.Single(response.Message.Verdict.Images);
    }

    private static async Task WaitForLogAsync(SiloProcess silo, string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!silo.Log.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < timeout, $"{silo.Name} did not log '{text}' within {timeout.TotalSeconds:0} s:\n{string.Join('\n', silo.Log.Split('\n').TakeLast(30))}");
            await Task.Delay(200);
        }
    }

    private static string Describe(IEnumerable<string> ids, IReadOnlyDictionary<string, string> models) =>
        string.Join(", ", ids.GroupBy(id => models[id]).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} x {g.Key}"));
}
