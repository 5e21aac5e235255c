using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Training;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// The reviewer's routes against a real gateway in front of the real cluster (two silos, RabbitMQ, Redis), with the
/// repository's sample images, whose labels under the default model the model card lists (the SDXL dog is "ai" at
/// 0.949, the cat "human" at 0.341): the queues the silos fill, the uploaded image served back, decisions with who and
/// when, the scopes, and the export read by <c>artgrid eval</c>.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class ReviewTests(ServersFixture cluster) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly string Dog = Path.Combine(TestAssets.SamplesDir, "ai", "photo-surfing-dog-sdxl.jpg");
    private static readonly string Cat = TestAssets.Photo;
    private static readonly string Coffee = Path.Combine(TestAssets.SamplesDir, "human", "photo-coffee.jpg");

    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-review-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task QueuesHoldScoredImagesByCategoryAndTheImageRouteServesTheUploadedBytes()
    {
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);
        string author = $"review-author-{cluster.RunId}";
        string conflictJob = $"{cluster.RunId}-review-dog";
        string humanJob = $"{cluster.RunId}-review-cat";
        string noiseJob = $"{cluster.RunId}-review-noise";
        byte[] dog = File.ReadAllBytes(Dog);
        byte[] cat = File.ReadAllBytes(Cat);
        byte[] noise = Encoding.ASCII.GetBytes("<html><script>alert(1)</script></html> this is not an image at all");

        JsonElement dogJob = await SubmitAsync(gateway, http, conflictJob, "dog.jpg", dog, author, declaredAi: false);
        JsonElement catJob = await SubmitAsync(gateway, http, humanJob, "cat.jpg", cat, author, declaredAi: false);
        JsonElement noiseVerdict = await SubmitAsync(gateway, http, noiseJob, "noise.jpg", noise, author, declaredAi: null);
        Assert.Equal("ai", dogJob.GetProperty("verdict").GetProperty("images")[0].GetProperty("label").GetString());
        Assert.True(dogJob.GetProperty("verdict").GetProperty("conflict").GetBoolean());
        Assert.Equal("human", catJob.GetProperty("verdict").GetProperty("images")[0].GetProperty("label").GetString());
        Assert.Equal("unsupported_format", noiseVerdict.GetProperty("verdict").GetProperty("images")[0].GetProperty("error").GetProperty("code").GetString());

        // Each queue holds what its filter says, newest first, and a failed image is in none.
        var seen = new Dictionary<string, HashSet<string>>();
        foreach (string filter in new[] { "all", "ai", "conflict", "uncertain" })
        {
            IReadOnlyList<JsonElement> items = await QueueAsync(http, filter, [conflictJob, humanJob, noiseJob]);
            seen[filter] = [.. items.Select(i => i.GetProperty("jobId").GetString()!)];
            foreach (JsonElement item in items)
            {
                string? label = item.GetProperty("label").GetString();
                switch (filter)
                {
                    case "ai":
                        Assert.Equal("ai", label);
                        break;
                    case "conflict":
                        Assert.Equal("ai", label);
                        Assert.True(item.GetProperty("conflict").GetBoolean());
                        break;
                    case "uncertain":
                        Assert.Equal("uncertain", label);
                        break;
                }
            }
        }

        Assert.Equal(new[] { conflictJob, humanJob }.Order(StringComparer.Ordinal), seen["all"].Order(StringComparer.Ordinal));
        Assert.Equal(new[] { conflictJob }, seen["ai"]);
        Assert.Equal(new[] { conflictJob }, seen["conflict"]);
        Assert.Empty(seen["uncertain"]);

        // An item carries everything the console shows: the verdict's fields, the author's counts, the review state.
        JsonElement dogItem = (await QueueAsync(http, "conflict", [conflictJob]))[0];
        JsonElement dogImage = dogJob.GetProperty("verdict").GetProperty("images")[0];
        Assert.Equal($"{conflictJob}/0", dogItem.GetProperty("id").GetString());
        Assert.Equal("dog.jpg", dogItem.GetProperty("name").GetString());
        Assert.Equal(dogImage.GetProperty("aiProbability").GetDouble(), dogItem.GetProperty("aiProbability").GetDouble());
        Assert.Equal(dogImage.GetProperty("sha256").GetString(), dogItem.GetProperty("sha256").GetString());
        Assert.Equal(dogImage.GetProperty("model").GetString(), dogItem.GetProperty("model").GetString());
        Assert.Equal(dogImage.GetProperty("reasons").GetArrayLength(), dogItem.GetProperty("reasons").GetArrayLength());
        Assert.Equal(author, dogItem.GetProperty("author").GetProperty("author").GetString());
        Assert.Equal(JsonValueKind.Null, dogItem.GetProperty("review").ValueKind);

        // Paging: a page of one, then the next from its cursor, never the same item twice.
        using JsonDocument first = JsonDocument.Parse(await http.GetStringAsync("/v1/review/queue?filter=all&limit=1"));
        string cursor = first.RootElement.GetProperty("next").GetString()!;
        using JsonDocument second = JsonDocument.Parse(await http.GetStringAsync($"/v1/review/queue?filter=all&limit=1&before={cursor}"));
        Assert.NotEqual(first.RootElement.GetProperty("items")[0].GetProperty("id").GetString(), second.RootElement.GetProperty("items")[0].GetProperty("id").GetString());
        await GatewayTests.AssertProblemAsync(await http.GetAsync("/v1/review/queue?filter=odd"), HttpStatusCode.BadRequest, "invalid_request");
        await GatewayTests.AssertProblemAsync(await http.GetAsync("/v1/review/queue?before=not-a-cursor"), HttpStatusCode.BadRequest, "invalid_request");
        await GatewayTests.AssertProblemAsync(await http.GetAsync("/v1/review/queue?limit=0"), HttpStatusCode.BadRequest, "invalid_request");

        // The image as uploaded, typed by its bytes, with headers that keep a browser from sniffing or running it.
        HttpResponseMessage image = await http.GetAsync($"/v1/jobs/{conflictJob}/images/0/image");
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/jpeg", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(dog, await image.Content.ReadAsByteArrayAsync());
        Assert.Equal("nosniff", Assert.Single(image.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("default-src 'none'; sandbox", Assert.Single(image.Headers.GetValues("Content-Security-Policy")));
        Assert.True(image.Headers.CacheControl?.Private, image.Headers.CacheControl?.ToString());

        // Bytes that are not an image are never served; an index or a job that is not there is a problem of its own.
        await GatewayTests.AssertProblemAsync(await http.GetAsync($"/v1/jobs/{noiseJob}/images/0/image"), HttpStatusCode.UnsupportedMediaType, "preview_unsupported");
        await GatewayTests.AssertProblemAsync(await http.GetAsync($"/v1/jobs/{conflictJob}/images/1/image"), HttpStatusCode.NotFound, "image_not_found");
        await GatewayTests.AssertProblemAsync(await http.GetAsync($"/v1/jobs/{cluster.RunId}-nothing/images/0/image"), HttpStatusCode.NotFound, "job_not_found");

        // Once its claim check is gone (expired), an image that nobody reviewed (bytes of this run alone) has no preview.
        string expiredJob = $"{cluster.RunId}-review-expired";
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 301)[0];
        await SubmitAsync(gateway, http, expiredJob, name, bytes, author, declaredAi: null);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/v1/jobs/{expiredJob}/images/0/image")).StatusCode);
        Uri address = (await cluster.Records.GetImageAddressAsync(expiredJob, 0))!;
        StackExchange.Redis.IDatabase db = await cluster.Redis.GetDatabaseAsync();
        Assert.True(await db.KeyDeleteAsync("artgrid:data:" + address.ToString()["urn:artgrid:data:".Length..]));
        await GatewayTests.AssertProblemAsync(await http.GetAsync($"/v1/jobs/{expiredJob}/images/0/image"), HttpStatusCode.NotFound, "preview_not_found");

        // An image sent by key (or URL) has no copy to show; its job goes on to its answer (here a rejection: this
        // cluster has no image store), it is not held up by the preview.
        string keyJob = $"{cluster.RunId}-review-by-key";
        await (await cluster.Bus.GetSendEndpoint(cluster.Queue)).Send(new ScoreImages { JobId = keyJob, Images = [new ImageReference { Name = "by-key.jpg", Key = "photos/by-key.jpg" }] });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await cluster.Records.GetAsync(keyJob))?.Status is not JobStatus.Rejected && clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(100);
        }

        Assert.Equal(JobStatus.Rejected, (await cluster.Records.GetAsync(keyJob))?.Status);
        await GatewayTests.AssertProblemAsync(await http.GetAsync($"/v1/jobs/{keyJob}/images/0/image"), HttpStatusCode.NotFound, "preview_not_found");

        // The score scope alone cannot read the queue.
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["score"]).GetAsync("/v1/review/queue"), HttpStatusCode.Forbidden, "forbidden");
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["score"]).GetAsync($"/v1/jobs/{conflictJob}/images/0/image"), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task ADecisionRecordsWhoAndWhenTheLatestWinsAndOnlyTheReviewScopeMayDecide()
    {
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        HttpClient submitter = gateway.Client(gateway.Keys["score+read"]);
        HttpClient reviewer = gateway.Client(gateway.Keys["read+review"]);
        string jobId = $"{cluster.RunId}-decide-dog";
        byte[] dog = File.ReadAllBytes(Dog);
        await SubmitAsync(gateway, submitter, jobId, "dog.jpg", dog, $"decide-{cluster.RunId}", declaredAi: null);

        // Keys without the review scope are refused; nothing is recorded.
        var overturn = new { jobId, image = 0, label = "human", note = "my own photo, <b>really</b>" };
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["read"]).PostAsJsonAsync("/v1/reviews", overturn), HttpStatusCode.Forbidden, "forbidden");
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["score"]).PostAsJsonAsync("/v1/reviews", overturn), HttpStatusCode.Forbidden, "forbidden");
        await GatewayTests.AssertProblemAsync(await gateway.Client(null).PostAsJsonAsync("/v1/reviews", overturn), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(JsonValueKind.Null, (await ItemAsync(reviewer, jobId)).GetProperty("review").ValueKind);

        // The reviewer overturns the verdict: who, when, both labels and the model are recorded.
        DateTimeOffset before = DateTimeOffset.UtcNow;
        HttpResponseMessage created = await reviewer.PostAsJsonAsync("/v1/reviews", overturn);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync() + gateway.Log);
        JsonElement decision = await created.Content.ReadFromJsonAsync<JsonElement>(Json);
        DateTimeOffset after = DateTimeOffset.UtcNow;
        Assert.Equal("test-read-review", decision.GetProperty("reviewer").GetString());
        Assert.InRange(decision.GetProperty("reviewedAt").GetDateTimeOffset(), before.AddSeconds(-1), after.AddSeconds(1));
        Assert.Equal("human", decision.GetProperty("label").GetString());
        Assert.Equal("ai", decision.GetProperty("modelLabel").GetString());
        Assert.Equal("overturned", decision.GetProperty("outcome").GetString());
        Assert.Equal(overturn.note, decision.GetProperty("note").GetString());
        Assert.True(decision.GetProperty("imageKept").GetBoolean());
        Assert.StartsWith("artgrid-resnet18/", decision.GetProperty("model").GetString(), StringComparison.Ordinal);

        // A later decision on the same image replaces it; the queue shows the latest, and reviewed=false hides it.
        HttpResponseMessage confirmed = await reviewer.PostAsJsonAsync("/v1/reviews", new { jobId, image = 0, label = "ai" });
        Assert.Equal(HttpStatusCode.Created, confirmed.StatusCode);
        JsonElement item = await ItemAsync(reviewer, jobId);
        Assert.Equal("ai", item.GetProperty("review").GetProperty("label").GetString());
        Assert.Equal("confirmed", item.GetProperty("review").GetProperty("outcome").GetString());
        Assert.DoesNotContain(await QueueAsync(reviewer, "all", [jobId], "&reviewed=false"), i => i.GetProperty("jobId").GetString() == jobId);
        Assert.Single(await QueueAsync(reviewer, "all", [jobId], "&reviewed=true"));

        // The stats count the decision once, and their matrices add up.
        using JsonDocument stats = JsonDocument.Parse(await reviewer.GetStringAsync("/v1/review/stats"));
        JsonElement model = stats.RootElement.GetProperty("model");
        int reviewed = stats.RootElement.GetProperty("reviewed").GetInt32();
        Assert.True(reviewed >= 1);
        Assert.Equal(reviewed, model.GetProperty("truePositives").GetInt32() + model.GetProperty("falsePositives").GetInt32() + model.GetProperty("trueNegatives").GetInt32() + model.GetProperty("falseNegatives").GetInt32());
        Assert.True(model.GetProperty("truePositives").GetInt32() >= 1); // this decision: flagged ai, confirmed ai
        Assert.InRange(model.GetProperty("precision").GetDouble(), 0, 1);
        Assert.True(stats.RootElement.GetProperty("queues").GetProperty("all").GetInt64() >= 1);

        // Malformed decisions and decisions on what is not there.
        await GatewayTests.AssertProblemAsync(await reviewer.PostAsJsonAsync("/v1/reviews", new { jobId, image = 0, label = "maybe" }), HttpStatusCode.BadRequest, "invalid_request");
        await GatewayTests.AssertProblemAsync(await reviewer.PostAsJsonAsync("/v1/reviews", new { jobId, image = 3, label = "ai" }), HttpStatusCode.NotFound, "image_not_found");
        await GatewayTests.AssertProblemAsync(await reviewer.PostAsJsonAsync("/v1/reviews", new { jobId = jobId + "-none", image = 0, label = "ai" }), HttpStatusCode.NotFound, "job_not_found");

        // Reviewed, the image outlives its claim check: the console still shows it, from the kept copy.
        Uri address = (await cluster.Records.GetImageAddressAsync(jobId, 0))!;
        StackExchange.Redis.IDatabase db = await cluster.Redis.GetDatabaseAsync();
        await db.KeyDeleteAsync("artgrid:data:" + address.ToString()["urn:artgrid:data:".Length..]);
        HttpResponseMessage kept = await reviewer.GetAsync($"/v1/jobs/{jobId}/images/0/image");
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        Assert.Equal(dog, await kept.Content.ReadAsByteArrayAsync());

        // The read scope cannot export.
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["read"]).GetAsync("/v1/review/export"), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task TheExportIsADataSetThatArtgridEvalReads()
    {
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        HttpClient submitter = gateway.Client(gateway.Keys["score+read"]);
        HttpClient reviewer = gateway.Client(gateway.Keys["read+review"]);
        string author = $"export-{cluster.RunId}";
        (string JobId, string Path, string Label)[] reviews =
        [
            ($"{cluster.RunId}-export-dog", Dog, "ai"),       // confirmed
            ($"{cluster.RunId}-export-cat", Cat, "human"),    // confirmed
            ($"{cluster.RunId}-export-coffee", Coffee, "ai"), // overturned
        ];
        var shas = new Dictionary<string, string>();
        foreach ((string jobId, string path, string label) in reviews)
        {
            // A name with a comma and quotes must not break the CSV (the gateway refuses control characters in names).
            JsonElement job = await SubmitAsync(gateway, submitter, jobId, $"x,\"y\" {Path.GetFileName(path)}", File.ReadAllBytes(path), author, declaredAi: null);
            shas[jobId] = job.GetProperty("verdict").GetProperty("images")[0].GetProperty("sha256").GetString()!;
            Assert.Equal(HttpStatusCode.Created, (await reviewer.PostAsJsonAsync("/v1/reviews", new { jobId, image = 0, label })).StatusCode);
        }

        // Over HTTP: a zip of labels.csv and images/, each image the bytes that were reviewed, named by their SHA-256.
        HttpResponseMessage export = await reviewer.GetAsync("/v1/review/export");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("application/zip", export.Content.Headers.ContentType?.MediaType);
        string zipPath = Path.Combine(_dir, "export.zip");
        await File.WriteAllBytesAsync(zipPath, await export.Content.ReadAsByteArrayAsync());
        string unzipped = Path.Combine(_dir, "unzipped");
        ZipFile.ExtractToDirectory(zipPath, unzipped);
        IReadOnlyList<LabelledImage> rows = LabelsCsv.Read(Path.Combine(unzipped, "labels.csv"));
        Assert.Equal(int.Parse(Assert.Single(export.Headers.GetValues("X-ArtGrid-Rows")), System.Globalization.CultureInfo.InvariantCulture), rows.Count);
        foreach ((string jobId, string path, string label) in reviews)
        {
            LabelledImage row = Assert.Single(rows, r => r.Columns["job_id"] == jobId);
            Assert.Equal(label == "ai", row.IsAi);
            Assert.Equal($"{shas[jobId]}.jpg", row.File);
            Assert.Equal("test-read-review", row.Columns["reviewer"]);
            Assert.Equal($"x,\"y\" {Path.GetFileName(path)}", row.Columns["name"]);
            byte[] bytes = File.ReadAllBytes(Path.Combine(unzipped, "images", row.File));
            Assert.Equal(File.ReadAllBytes(path), bytes);
            Assert.Equal(shas[jobId], Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }

        // The CLI writes the same folder, and artgrid eval measures the model on it.
        string folder = Path.Combine(_dir, "reviewed");
        var environment = new Dictionary<string, string> { ["ARTGRID_API_KEY"] = gateway.Keys["read+review"] };
        (int exit, string stdout, string stderr) = await CliTests.RunAsync(environment, "reviews", "export", "--gateway", gateway.Address.ToString(), "--out", folder);
        Assert.True(exit == 0, stderr);
        using (JsonDocument line = JsonDocument.Parse(stdout))
        {
            Assert.Equal(rows.Count, line.RootElement.GetProperty("rows").GetInt32());
        }

        Assert.Equal(File.ReadAllText(Path.Combine(unzipped, "labels.csv")), File.ReadAllText(Path.Combine(folder, "labels.csv")));
        string report = Path.Combine(_dir, "report");
        (exit, stdout, stderr) = await CliTests.RunAsync(
            new Dictionary<string, string>(), "eval", "--labels", Path.Combine(folder, "labels.csv"), "--images", Path.Combine(folder, "images"), "--out", report);
        Assert.True(exit == 0, stderr);
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json")));
        Assert.Equal(rows.Count, metrics.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(0, metrics.RootElement.GetProperty("failed").GetInt32());
        Assert.Equal(rows.Count(r => r.IsAi), metrics.RootElement.GetProperty("overall").GetProperty("ai").GetInt32());

        // Refusals as every gateway command has them: a key without the scope exits 4, a folder in use exits 2.
        (exit, _, stderr) = await CliTests.RunAsync(
            new Dictionary<string, string> { ["ARTGRID_API_KEY"] = gateway.Keys["read"] }, "reviews", "export", "--gateway", gateway.Address.ToString(), "--out", Path.Combine(_dir, "refused"));
        Assert.Equal(4, exit);
        Assert.Contains("'review' scope", stderr);
        (exit, _, _) = await CliTests.RunAsync(environment, "reviews", "export", "--gateway", gateway.Address.ToString(), "--out", folder);
        Assert.Equal(2, exit);
    }

    /// <summary>Submits one image as JSON and waits for its verdict.</summary>
    internal static async Task<JsonElement> SubmitAsync(GatewayProcess gateway, HttpClient http, string jobId, string name, byte[] bytes, string author, bool? declaredAi)
    {
        HttpResponseMessage answer = await http.PostAsJsonAsync(
            "/v1/jobs?wait=true",
            new { jobId, images = new[] { new { name, base64 = Convert.ToBase64String(bytes) } }, metadata = new { author, declaredAi } });
        string body = await answer.Content.ReadAsStringAsync();
        for (int i = 0; answer.StatusCode == HttpStatusCode.Accepted && i < 600; i++)
        {
            await Task.Delay(200);
            answer = await http.GetAsync($"/v1/jobs/{Uri.EscapeDataString(jobId)}");
            body = await answer.Content.ReadAsStringAsync();
            if (JsonDocument.Parse(body).RootElement.GetProperty("status").GetString() is JobStatus.Completed or JobStatus.Rejected)
            {
                break;
            }
        }

        Assert.True(answer.IsSuccessStatusCode, $"{(int)answer.StatusCode}: {body}\n{gateway.Log}");
        JsonElement job = JsonDocument.Parse(body).RootElement;
        Assert.True(job.GetProperty("status").GetString() == JobStatus.Completed, body);
        return job;
    }

    /// <summary>The items of queue <paramref name="filter"/> that belong to <paramref name="jobIds"/>, paging through the whole queue.</summary>
    internal static async Task<IReadOnlyList<JsonElement>> QueueAsync(HttpClient http, string filter, IReadOnlyCollection<string> jobIds, string extra = "")
    {
        var found = new List<JsonElement>();
        string? cursor = null;
        do
        {
            using JsonDocument page = JsonDocument.Parse(await http.GetStringAsync($"/v1/review/queue?filter={filter}&limit=200{extra}" + (cursor is null ? "" : $"&before={cursor}")));
            found.AddRange(page.RootElement.GetProperty("items").EnumerateArray().Where(i => jobIds.Contains(i.GetProperty("jobId").GetString()!)).Select(i => i.Clone()));
            cursor = page.RootElement.GetProperty("next").GetString();
        }
        while (cursor is not null);
        return found;
    }

    private static async Task<JsonElement> ItemAsync(HttpClient http, string jobId) => Assert.Single(await QueueAsync(http, "all", [jobId]));
}
