using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Tests.Webhooks;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// The moderation API as a real gateway process in front of the real cluster (two silos, RabbitMQ, Redis): every route,
/// every status it answers and every problem type, with real images.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class GatewayTests(ServersFixture cluster, ITestOutputHelper output)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task ScoreAnswersTheVerdictAndTheJobKeepsOneSchemaWithItsMap()
    {
        await using GatewayProcess gateway = await StartAsync();
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 101)[0];
        string jobId = $"{cluster.RunId}-score";

        HttpResponseMessage scored = await http.PostAsJsonAsync("/v1/score", new { jobId, name, base64 = Convert.ToBase64String(bytes) });
        Assert.True(scored.StatusCode == HttpStatusCode.OK, await DescribeAsync(scored, gateway));
        Assert.Equal($"/v1/jobs/{jobId}", scored.Headers.Location?.ToString());
        using JsonDocument body = JsonDocument.Parse(await scored.Content.ReadAsStringAsync());
        JsonElement job = body.RootElement;
        Assert.Equal(JobStatus.Completed, job.GetProperty("status").GetString());
        JsonElement image = Assert.Single(job.GetProperty("verdict").GetProperty("images").EnumerateArray());
        Assert.Equal(name, image.GetProperty("name").GetString());
        Assert.Contains(image.GetProperty("label").GetString(), new[] { "ai", "human", "uncertain" });
        Assert.InRange(image.GetProperty("aiProbability").GetDouble(), 0, 1);
        Assert.StartsWith("artgrid-resnet18/", image.GetProperty("model").GetString(), StringComparison.Ordinal);
        Assert.True(image.GetProperty("timings").GetProperty("inferenceMs").GetDouble() >= 0);
        Assert.NotEmpty(image.GetProperty("reasons").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, image.GetProperty("error").ValueKind);
        foreach (string field in new[] { "acceptedAt", "receivedAt", "completedAt" })
        {
            Assert.Equal(JsonValueKind.String, job.GetProperty(field).ValueKind);
        }

        // GET answers the same job in the same schema.
        using JsonDocument again = JsonDocument.Parse(await http.GetStringAsync($"/v1/jobs/{jobId}"));
        Assert.Equal(job.GetProperty("verdict").GetProperty("aiProbability").GetDouble(), again.RootElement.GetProperty("verdict").GetProperty("aiProbability").GetDouble());
        Assert.Equal(
            job.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal),
            again.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        // The activation map left the silo with the verdict: a transparent PNG layer of the asked width.
        HttpResponseMessage map = await http.GetAsync($"/v1/jobs/{jobId}/images/0/map.png?width=160");
        Assert.True(map.StatusCode == HttpStatusCode.OK, await DescribeAsync(map, gateway));
        Assert.Equal("image/png", map.Content.Headers.ContentType?.MediaType);
        using (Image<Rgba32> layer = Image.Load<Rgba32>(await map.Content.ReadAsByteArrayAsync()))
        {
            Assert.Equal(160, layer.Width);
            Assert.Equal(160, layer.Height); // the default model's map is square
            Assert.InRange(layer[80, 80].A, 100, 130); // 45% opacity
        }

        await AssertProblemAsync(await http.GetAsync($"/v1/jobs/{jobId}/images/1/map.png"), HttpStatusCode.NotFound, "image_not_found");
        await AssertProblemAsync(await http.GetAsync($"/v1/jobs/{jobId}/images/0/map.png?width=0"), HttpStatusCode.BadRequest, "invalid_request");
        await AssertProblemAsync(await http.GetAsync($"/v1/jobs/{cluster.RunId}-never-sent"), HttpStatusCode.NotFound, "job_not_found");
    }

    [Fact]
    public async Task JobsComeAsMultipartOrJsonAndAWaitIsBoundedAndNeverAnError()
    {
        await using GatewayProcess gateway = await StartAsync();
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(4, seed: 102);
        string author = $"gateway-author-{cluster.RunId}";

        // Multipart: file parts streamed in, metadata as fields.
        using var form = new MultipartFormDataContent();
        foreach ((string name, byte[] bytes) in images.Take(2))
        {
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            form.Add(file, "image", name);
        }

        form.Add(new StringContent(author), "author");
        form.Add(new StringContent("false"), "declaredAi");
        form.Add(new StringContent("landscape"), "tag");
        form.Add(new StringContent("gateway-test"), "source");
        HttpResponseMessage accepted = await http.PostAsync("/v1/jobs", form);
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, await DescribeAsync(accepted, gateway));
        JsonElement acceptedJob = (await accepted.Content.ReadFromJsonAsync<JsonElement>(Json))!;
        string jobId = acceptedJob.GetProperty("jobId").GetString()!;
        Assert.Equal($"/v1/jobs/{jobId}", accepted.Headers.Location?.ToString());
        Assert.Contains(acceptedJob.GetProperty("status").GetString(), new[] { JobStatus.Accepted, JobStatus.Received, JobStatus.Completed });

        JsonElement done = await PollAsync(http, accepted.Headers.Location!.ToString());
        Assert.Equal(JobStatus.Completed, done.GetProperty("status").GetString());
        Assert.Equal(images.Take(2).Select(i => i.Name), done.GetProperty("verdict").GetProperty("images").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(author, done.GetProperty("verdict").GetProperty("author").GetProperty("author").GetString());

        // The author grain's counts.
        using JsonDocument counts = JsonDocument.Parse(await http.GetStringAsync($"/v1/authors/{Uri.EscapeDataString(author.ToUpperInvariant())}"));
        Assert.Equal(1, counts.RootElement.GetProperty("jobs").GetInt64());
        await AssertProblemAsync(await http.GetAsync($"/v1/authors/nobody-{cluster.RunId}"), HttpStatusCode.NotFound, "author_not_found");

        // A wait too short for the job: 202 with its address, and the job goes on to complete.
        HttpResponseMessage shortWait = await http.PostAsJsonAsync("/v1/jobs?wait=0.001", Job(null, images[2]));
        Assert.True(shortWait.StatusCode == HttpStatusCode.Accepted, await DescribeAsync(shortWait, gateway));
        Assert.Equal(JobStatus.Completed, (await PollAsync(http, shortWait.Headers.Location!.ToString())).GetProperty("status").GetString());

        // A wait long enough: the finished job in the answer.
        HttpResponseMessage waited = await http.PostAsJsonAsync("/v1/jobs?wait=true", Job(null, images[3]));
        Assert.True(waited.StatusCode == HttpStatusCode.OK, await DescribeAsync(waited, gateway));
        Assert.Equal(JobStatus.Completed, (await waited.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("status").GetString());
        await AssertProblemAsync(await http.PostAsJsonAsync("/v1/jobs?wait=soon", Job(null, images[3])), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task AJobIdPostedAgainAnswersTheFirstJobAndOtherImagesConflict()
    {
        await using GatewayProcess gateway = await StartAsync();
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(2, seed: 103);
        string key = $"{cluster.RunId}-idempotent";

        using var first = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs?wait=true") { Content = JsonContent.Create(Job(null, images[0])) };
        first.Headers.Add("Idempotency-Key", key);
        HttpResponseMessage firstAnswer = await http.SendAsync(first);
        Assert.True(firstAnswer.StatusCode == HttpStatusCode.OK, await DescribeAsync(firstAnswer, gateway));
        JsonElement firstJob = await firstAnswer.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.Equal(key, firstJob.GetProperty("jobId").GetString());

        // The same key (here as the body's job id) and the same image: the first job's result, not a second job.
        HttpResponseMessage repeat = await http.PostAsJsonAsync("/v1/jobs", Job(key, images[0]));
        Assert.True(repeat.StatusCode == HttpStatusCode.OK, await DescribeAsync(repeat, gateway));
        JsonElement repeated = await repeat.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.Equal(firstJob.GetProperty("completedAt").GetString(), repeated.GetProperty("completedAt").GetString());
        Assert.Equal(firstJob.GetProperty("verdict").GetProperty("aiProbability").GetDouble(), repeated.GetProperty("verdict").GetProperty("aiProbability").GetDouble());

        // The same key with another image: 409, and the job is unchanged.
        await AssertProblemAsync(await http.PostAsJsonAsync("/v1/jobs", Job(key, images[1])), HttpStatusCode.Conflict, "idempotency_conflict");
        JsonElement unchanged = await http.GetFromJsonAsync<JsonElement>($"/v1/jobs/{key}", Json);
        Assert.Equal(images[0].Name, unchanged.GetProperty("verdict").GetProperty("images")[0].GetProperty("name").GetString());

        using var differing = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(Job("another-id", images[0])) };
        differing.Headers.Add("Idempotency-Key", key);
        await AssertProblemAsync(await http.SendAsync(differing), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task AJobTheClusterRejectsIsA422OnTheScoreRouteAndARejectedJobEverywhereElse()
    {
        // The gateway takes URLs, the silos do not fetch them: the cluster rejects the job (unresolvable_image).
        await using GatewayProcess gateway = await StartAsync(new Dictionary<string, string> { ["ArtGrid__UrlFetch__Enabled"] = "true" });
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);
        string jobId = $"{cluster.RunId}-rejected";

        HttpResponseMessage scored = await http.PostAsJsonAsync("/v1/score", new { jobId, name = "remote.jpg", url = "https://images.example.com/remote.jpg" });
        await AssertProblemAsync(scored, HttpStatusCode.UnprocessableEntity, "job_rejected");
        using (JsonDocument problem = JsonDocument.Parse(await scored.Content.ReadAsStringAsync()))
        {
            Assert.Equal(RejectionCodes.UnresolvableImage, problem.RootElement.GetProperty("rejection").GetProperty("code").GetString());
        }

        JsonElement job = await http.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}", Json);
        Assert.Equal(JobStatus.Rejected, job.GetProperty("status").GetString());
        Assert.Equal(0, job.GetProperty("rejection").GetProperty("imageIndex").GetInt32());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("verdict").ValueKind);
        await AssertProblemAsync(await http.GetAsync($"/v1/jobs/{jobId}/images/0/map.png"), HttpStatusCode.NotFound, "image_not_found");
    }

    [Fact]
    public async Task WithoutItsBrokerTheGatewayIsNotReadyAndRefusesJobsWith503TakingNothing()
    {
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(
            cluster,
            new Dictionary<string, string>
            {
                ["ConnectionStrings__RabbitMq"] = $"amqp://guest:guest@127.0.0.1:{WebhookReceiver.ClosedPort()}/",
                ["ArtGrid__Bus__PublishTimeoutSeconds"] = "2",
            },
            waitReady: false);
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);

        HttpResponseMessage ready = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("masstransit-bus", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 107)[0];
        string jobId = $"{cluster.RunId}-no-broker";
        HttpResponseMessage refused = await http.PostAsJsonAsync("/v1/jobs", Job(jobId, (name, bytes)));
        await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);

        // Nothing was taken: no record, and the job id is free for the caller's retry.
        Assert.Null(await cluster.Records.GetAsync(jobId));
        StackExchange.Redis.IDatabase redis = await cluster.Redis.GetDatabaseAsync();
        Assert.False(await redis.KeyExistsAsync(JobRecord.SubmissionRedisKey(jobId)));
    }

    // The settings of a cluster of a test's own on its own Redis: cluster, service and queue named for the test.
    private Dictionary<string, string> ClusterOfItsOwn(PrivateRedis redis, string suffix) => new(cluster.SiloSettings)
    {
        ["ConnectionStrings__Redis"] = redis.Address,
        ["ArtGrid__Silo__ClusterId"] = $"{cluster.RunId}-{suffix}",
        ["ArtGrid__Silo__ServiceId"] = $"{cluster.RunId}-{suffix}",
        ["ArtGrid__Bus__QueueName"] = $"score-images-{cluster.RunId}-{suffix}",
    };

    [Fact]
    public async Task WhenRedisIsFull_AJobIsRefusedWith503TakingNothing_AndTheSamePostIsTakenOnceThereIsRoom()
    {
        // A Redis of this test's own (the shared one must not fill), with no eviction, as docs/OPERATIONS.md asks of
        // it, and a cluster of one silo on it, with a queue of its own.
        await using PrivateRedis redis = await PrivateRedis.StartAsync();
        Dictionary<string, string> settings = ClusterOfItsOwn(redis, "full");
        await using SiloProcess silo = await SiloProcess.StartAsync("full-redis", settings);
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(settings, new Dictionary<string, string> { ["ConnectionStrings__Redis"] = redis.Address });
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);

        // Two images of 2 MB each: over the inline limit, so each is claim-checked. Redis gets room for about the first
        // (the command's own 2 MB count while Redis reads it): the job's records are written, then an image's write is
        // refused (OOM).
        byte[][] photos = [.. Enumerable.Range(0, 2).Select(Noise)];
        object job = new { jobId = $"{cluster.RunId}-full", images = photos.Select((p, i) => new { name = $"noise-{i}.png", base64 = Convert.ToBase64String(p) }) };
        long used = long.Parse(redis.Server.Info("memory").SelectMany(g => g).Single(kv => kv.Key == "used_memory").Value, System.Globalization.CultureInfo.InvariantCulture);
        await redis.Server.ConfigSetAsync("maxmemory-policy", "noeviction");
        await redis.Server.ConfigSetAsync("maxmemory", (used + (3 * 1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture));

        HttpResponseMessage refused = await http.PostAsJsonAsync("/v1/jobs", job);
        await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Contains("is full", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.Headers.RetryAfter?.Delta);

        // Nothing was taken: no record, the job id free again; an image stored before the refusal is all that may be
        // left, and it expires.
        StackExchange.Redis.IDatabase db = redis.Connection.GetDatabase();
        Assert.False(await db.KeyExistsAsync(JobRecord.RedisKey($"{cluster.RunId}-full")));
        Assert.False(await db.KeyExistsAsync(JobRecord.SubmissionRedisKey($"{cluster.RunId}-full")));
        StackExchange.Redis.RedisKey[] left = [.. redis.Server.Keys(pattern: "artgrid:data:*")];
        output.WriteLine($"{left.Length} claim-checked image(s) left after the refusal");
        Assert.InRange(left.Length, 0, 1);
        foreach (StackExchange.Redis.RedisKey key in left)
        {
            Assert.NotNull(await db.KeyTimeToLiveAsync(key));
        }

        // Room again: the caller's retry of the same post is taken, and scored.
        await redis.Server.ConfigSetAsync("maxmemory", "0");
        HttpResponseMessage taken = await http.PostAsJsonAsync("/v1/jobs", job);
        Assert.True(taken.StatusCode == HttpStatusCode.Accepted, await DescribeAsync(taken, gateway));
        JsonElement scored = await PollAsync(http, taken.Headers.Location!.ToString());
        Assert.Equal(JobStatus.Completed, scored.GetProperty("status").GetString());
    }

    [Fact]
    public async Task WhenRedisIsGone_TheGatewayIsNotReadyNamingIt_RefusesAJobWith503TakingNothing_AndTakesTheSamePostOnceItIsBack()
    {
        // A Redis of this test's own (the shared one must not stop), and a cluster of one silo on it with a queue of its own.
        await using PrivateRedis redis = await PrivateRedis.StartAsync();
        Dictionary<string, string> settings = ClusterOfItsOwn(redis, "gone");
        await using SiloProcess silo = await SiloProcess.StartAsync("gone-redis", settings);
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(settings, new Dictionary<string, string> { ["ConnectionStrings__Redis"] = redis.Address });
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 109)[0];
        string jobId = $"{cluster.RunId}-redis-gone";

        await redis.StopAsync();

        // Not ready, and the readiness answer says Redis is why; live all the while (nothing to restart).
        string? ready = null;
        for (var clock = Stopwatch.StartNew(); ready is null && clock.Elapsed < TimeSpan.FromMinutes(1); await Task.Delay(500))
        {
            using HttpResponseMessage response = await http.GetAsync("/health/ready");
            ready = response.StatusCode == HttpStatusCode.ServiceUnavailable ? await response.Content.ReadAsStringAsync() : null;
        }

        output.WriteLine($"/health/ready without Redis: {ready}");
        Assert.True(ready is not null, "the gateway stayed ready with its Redis gone");
        Assert.Contains("\"name\":\"redis\",\"status\":\"Unhealthy\"", ready, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);

        // A job posted meanwhile is refused, with a time to come back.
        HttpResponseMessage refused = await http.PostAsJsonAsync("/v1/jobs", Job(jobId, (name, bytes)));
        await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Contains("Redis", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);

        // Redis back: nothing of the refused post was recorded, the gateway is ready again, and the same post is taken and scored.
        await redis.StartAgainAsync();
        StackExchange.Redis.IDatabase db = redis.Connection.GetDatabase();
        Assert.False(await db.KeyExistsAsync(JobRecord.RedisKey(jobId)));
        Assert.False(await db.KeyExistsAsync(JobRecord.SubmissionRedisKey(jobId)));
        string? notReady = await HttpPolling.UntilOkAsync(http, new Uri("/health/ready", UriKind.Relative), TimeSpan.FromMinutes(1), () => null);
        Assert.True(notReady is null, $"the gateway did not become ready again: {notReady}\n{gateway.Log}");
        HttpResponseMessage taken = await http.PostAsJsonAsync("/v1/jobs", Job(jobId, (name, bytes)));
        Assert.True(taken.StatusCode == HttpStatusCode.Accepted, await DescribeAsync(taken, gateway));
        JsonElement scored = await PollAsync(http, taken.Headers.Location!.ToString());
        Assert.Equal(JobStatus.Completed, scored.GetProperty("status").GetString());
    }

    // A PNG of noise, 1000 x 700: about 2 MB, as noise does not compress.
    private static byte[] Noise(int seed)
    {
        var random = new Random(seed);
        using var image = new Image<Rgb24>(1000, 700);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows.GetRowSpan(y)));
            }
        });
        using var png = new MemoryStream();
        image.SaveAsPng(png);
        return png.ToArray();
    }

    [Fact]
    public async Task EveryRouteChecksTheKeyAndItsScope()
    {
        await using GatewayProcess gateway = await StartAsync();
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 104)[0];
        object job = Job($"{cluster.RunId}-scopes", (name, bytes));

        HttpResponseMessage anonymous = await gateway.Client(null).PostAsJsonAsync("/v1/jobs", job);
        await AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.ToString());
        await AssertProblemAsync(await gateway.Client("ag_not_a_key").GetAsync("/models"), HttpStatusCode.Unauthorized, "unauthorized");

        HttpClient read = gateway.Client(gateway.Keys["read"]);
        HttpClient score = gateway.Client(gateway.Keys["score"]);
        await AssertProblemAsync(await read.PostAsJsonAsync("/v1/jobs", job), HttpStatusCode.Forbidden, "forbidden");
        await AssertProblemAsync(await read.PostAsJsonAsync("/v1/score", job), HttpStatusCode.Forbidden, "forbidden");
        await AssertProblemAsync(await score.GetAsync($"/v1/jobs/{cluster.RunId}-scopes"), HttpStatusCode.Forbidden, "forbidden");
        await AssertProblemAsync(await score.GetAsync("/models"), HttpStatusCode.Forbidden, "forbidden");
        await AssertProblemAsync(await read.PutAsJsonAsync("/models/artgrid-resnet18/active", new { version = "1" }), HttpStatusCode.Forbidden, "forbidden");

        // The X-Api-Key header is a key too; each scope does what it holds.
        using var withHeader = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(job) };
        withHeader.Headers.Add("X-Api-Key", gateway.Keys["score"]);
        Assert.Equal(HttpStatusCode.Accepted, (await gateway.Client(null).SendAsync(withHeader)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync("/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync($"/v1/jobs/{cluster.RunId}-scopes")).StatusCode); // admin reads
        Assert.DoesNotContain(gateway.Keys["score"], gateway.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidJobsAreRefusedBeforeAnythingIsRecordedOrUploaded()
    {
        await using GatewayProcess gateway = await StartAsync(new Dictionary<string, string>
        {
            ["ArtGrid__Gateway__MaxImageBytes"] = "200000",
            ["ArtGrid__Gateway__MaxRequestBytes"] = "600000",
        });
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 105)[0];
        byte[] big = new byte[250_000];
        Random.Shared.NextBytes(big);
        var refused = new List<string>();
        async Task Refused(string id, HttpContent content, HttpStatusCode status, string code, string route = "/v1/jobs")
        {
            await AssertProblemAsync(await http.PostAsync(route, content), status, code);
            refused.Add(id);
        }

        string Id(string what) => $"{cluster.RunId}-refused-{what}";
        await Refused(Id("no-images"), JsonContent.Create(new { jobId = Id("no-images"), images = Array.Empty<object>() }), HttpStatusCode.BadRequest, "invalid_request");
        await Refused(Id("too-many"), JsonContent.Create(new { jobId = Id("too-many"), images = Enumerable.Range(0, 65).Select(i => new { name = $"{i}.jpg", base64 = "AAAA" }) }), HttpStatusCode.BadRequest, "invalid_request");
        await Refused(Id("bad-base64"), JsonContent.Create(new { jobId = Id("bad-base64"), images = new[] { new { name = "x.jpg", base64 = "not base64!" } } }), HttpStatusCode.BadRequest, "invalid_image");
        await Refused(Id("two-sources"), JsonContent.Create(new { jobId = Id("two-sources"), images = new[] { new { name = "x.jpg", base64 = "AAAA", url = "https://example.com/x.jpg" } } }), HttpStatusCode.BadRequest, "invalid_request");
        await Refused(Id("url"), JsonContent.Create(new { jobId = Id("url"), images = new[] { new { name = "x.jpg", url = "https://example.com/x.jpg" } } }), HttpStatusCode.BadRequest, "urls_disabled");
        await Refused(Id("priority"), JsonContent.Create(new { jobId = Id("priority"), priority = 12, images = new[] { new { name, base64 = Convert.ToBase64String(bytes) } } }), HttpStatusCode.BadRequest, "invalid_request");
        await Refused(Id("callback"), JsonContent.Create(new { jobId = Id("callback"), callbackUrl = "http://127.0.0.1:9/hook", images = new[] { new { name, base64 = Convert.ToBase64String(bytes) } } }), HttpStatusCode.BadRequest, "callback_refused");
        await Refused(Id("big-json"), JsonContent.Create(new { jobId = Id("big-json"), images = new[] { new { name = "big.jpg", base64 = Convert.ToBase64String(big) } } }), HttpStatusCode.RequestEntityTooLarge, "image_too_large");
        using (var form = new MultipartFormDataContent { { new StringContent(Id("big-part")), "jobId" }, { new ByteArrayContent(big), "image", "big.jpg" } })
        {
            await Refused(Id("big-part"), form, HttpStatusCode.RequestEntityTooLarge, "image_too_large");
        }

        using (var body = new MultipartFormDataContent { { new StringContent(Id("big-body")), "jobId" } })
        {
            for (int i = 0; i < 4; i++)
            {
                body.Add(new ByteArrayContent(big[..190_000]), "image", $"{i}.jpg");
            }

            await Refused(Id("big-body"), body, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        }

        await Refused(Id("two-images"), JsonContent.Create(new { jobId = Id("two-images"), images = new[] { new { name, base64 = "AAAA" } }, name, base64 = Convert.ToBase64String(bytes), url = "https://example.com/x.jpg" }), HttpStatusCode.BadRequest, "invalid_request", "/v1/score");
        await Refused(Id("text"), new StringContent("hello", Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        await Refused(Id("not-json"), new StringContent("{\"images\":", Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "invalid_request");

        // Nothing of a refused job reached the cluster: no record, no taken job id, no event.
        foreach (string id in refused)
        {
            Assert.Null(await cluster.Records.GetAsync(id));
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/v1/jobs/{id}")).StatusCode);
        }

        Assert.DoesNotContain(cluster.Events.Rejected.Keys, id => id.StartsWith(Id(""), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ErrorsAreProblemDetailsEverywhereAndTheOpenApiDocumentListsEveryRoute()
    {
        await using GatewayProcess gateway = await StartAsync();
        await AssertProblemAsync(await gateway.Http.GetAsync("/v1/nowhere"), HttpStatusCode.NotFound, "not_found");
        await AssertProblemAsync(await gateway.Http.DeleteAsync("/v1/jobs/x"), HttpStatusCode.MethodNotAllowed, "method_not_allowed");

        HttpResponseMessage document = await gateway.Client(null).GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        using JsonDocument openApi = JsonDocument.Parse(await document.Content.ReadAsStringAsync());
        string[] paths = [.. openApi.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name)];
        string[] expected = ["/v1/score", "/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/images/{index}/map.png", "/v1/authors/{id}", "/models", "/models/{name}/active",
            "/v1/jobs/{id}/images/{index}/image", "/v1/review/queue", "/v1/review/stats", "/v1/reviews", "/v1/review/export", "/v1/ops"];
        Assert.All(expected, path => Assert.Contains(path, paths));
        string description = openApi.RootElement.GetProperty("info").GetProperty("description").GetString()!;
        Assert.Contains("urn:artgrid:problem:idempotency_conflict", description, StringComparison.Ordinal);

        // docs/API.md documents every route of the document, and every problem type.
        string api = await File.ReadAllTextAsync(Path.Combine(TestAssets.RepositoryRoot, "docs", "API.md"));
        foreach (JsonProperty path in openApi.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (JsonProperty method in path.Value.EnumerateObject())
            {
                Assert.Contains($"{method.Name.ToUpperInvariant()} {path.Name}", api, StringComparison.Ordinal);
            }
        }

        foreach (string code in description.Split("urn:artgrid:problem:").Skip(1).Select(s => s.Split('`')[0]))
        {
            Assert.Contains($"`{code}`", api, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AKeyOverItsRateIsAnswered429WithRetryAfter()
    {
        await using GatewayProcess gateway = await StartAsync(new Dictionary<string, string>
        {
            ["ArtGrid__Gateway__RateLimit__Permits"] = "2",
            ["ArtGrid__Gateway__RateLimit__PeriodSeconds"] = "600",
        });
        HttpClient http = gateway.Client(gateway.Keys["read"]);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/models")).StatusCode);
        HttpResponseMessage limited = await http.GetAsync("/models");
        await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.InRange(limited.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 600);

        // The bucket is the key's: another key is not limited.
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client(gateway.Keys["score+read"]).GetAsync("/models")).StatusCode);
    }

    [Fact]
    public async Task AJobWithACallbackIsPostedSignedAndItsDeliveryShowsOnTheJob()
    {
        const string secret = "gateway-test-webhook-secret-0123456789";
        await using var receiver = new WebhookReceiver();
        await using GatewayProcess gateway = await StartAsync(new Dictionary<string, string>
        {
            ["ArtGrid__Webhooks__Enabled"] = "true",
            ["ArtGrid__Webhooks__SigningSecret"] = secret,
            ["ArtGrid__Webhooks__AllowedHosts__0"] = "127.0.0.1",
            ["ArtGrid__Webhooks__AllowPrivateNetworks"] = "true",
            ["ArtGrid__Webhooks__MinBackoffSeconds"] = "0.2",
        });
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 106)[0];
        string jobId = $"{cluster.RunId}-webhook";
        receiver.Script("/hooks/artgrid", 500, 200);

        HttpResponseMessage accepted = await http.PostAsJsonAsync("/v1/jobs", new
        {
            jobId,
            callbackUrl = receiver.Url("/hooks/artgrid"),
            images = new[] { new { name, base64 = Convert.ToBase64String(bytes) } },
        });
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, await DescribeAsync(accepted, gateway));
        Assert.Equal("pending", (await accepted.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("callback").GetProperty("state").GetString());

        // Delivered on the second attempt (the first was answered 500), and shown on the job.
        JsonElement job = default;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            job = await http.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}", Json);
            if (job.GetProperty("callback").GetProperty("state").GetString() != "pending")
            {
                break;
            }

            await Task.Delay(100);
        }

        JsonElement callback = job.GetProperty("callback");
        Assert.True(callback.GetProperty("state").GetString() == "delivered", job.ToString() + "\n" + gateway.Log);
        Assert.Equal(2, callback.GetProperty("attempts").GetInt32());
        IReadOnlyList<ReceivedWebhook> received = receiver.To("/hooks/artgrid");
        Assert.Equal(2, received.Count);
        ReceivedWebhook delivered = received[^1];
        Assert.Equal($"{jobId}:job.completed", delivered.WebhookId);
        Assert.True(WebhookSignature.Verify(secret, delivered.Signature, delivered.Body, DateTimeOffset.UtcNow, WebhookSignature.DefaultTolerance));
        using JsonDocument body = JsonDocument.Parse(delivered.Body);
        Assert.Equal(job.GetProperty("verdict").GetProperty("aiProbability").GetDouble(), body.RootElement.GetProperty("verdict").GetProperty("aiProbability").GetDouble());

        // The verifier of the docs refuses a tampered body, a wrong secret and a stale signature.
        byte[] tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(delivered.Body).Replace("\"label\":\"", "\"label\":\"x", StringComparison.Ordinal));
        Assert.False(WebhookSignature.Verify(secret, delivered.Signature, tampered, DateTimeOffset.UtcNow, WebhookSignature.DefaultTolerance));
        Assert.False(WebhookSignature.Verify(secret + "x", delivered.Signature, delivered.Body, DateTimeOffset.UtcNow, WebhookSignature.DefaultTolerance));
        Assert.False(WebhookSignature.Verify(secret, delivered.Signature, delivered.Body, DateTimeOffset.UtcNow.AddHours(1), WebhookSignature.DefaultTolerance));
        Assert.DoesNotContain(secret, gateway.Log, StringComparison.Ordinal);

        // A callback the policy refuses is refused with the job, before anything is sent.
        await AssertProblemAsync(
            await http.PostAsJsonAsync("/v1/jobs", new { jobId = jobId + "-refused", callbackUrl = "http://10.1.2.3/hook", images = new[] { new { name, base64 = Convert.ToBase64String(bytes) } } }),
            HttpStatusCode.BadRequest,
            "callback_refused");
        Assert.Null(await cluster.Records.GetAsync(jobId + "-refused"));
    }

    private Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string>? settings = null) => GatewayProcess.StartAsync(cluster, settings);

    private static object Job(string? jobId, (string Name, byte[] Bytes) image) =>
        new { jobId, images = new[] { new { name = image.Name, base64 = Convert.ToBase64String(image.Bytes) } } };

    private static async Task<JsonElement> PollAsync(HttpClient http, string location)
    {
        var clock = Stopwatch.StartNew();
        JsonElement job = default;
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            job = await http.GetFromJsonAsync<JsonElement>(location, Json);
            if (job.GetProperty("status").GetString() is JobStatus.Completed or JobStatus.Rejected)
            {
                return job;
            }

            await Task.Delay(100);
        }

        return job;
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument problem = JsonDocument.Parse(body);
        Assert.Equal($"urn:artgrid:problem:{code}", problem.RootElement.GetProperty("type").GetString());
        Assert.Equal(code, problem.RootElement.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("title").GetString()));
    }

    private static async Task<string> DescribeAsync(HttpResponseMessage response, GatewayProcess gateway) =>
        $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n--- gateway log ---\n{string.Join('\n', gateway.Log.Split('\n').TakeLast(40))}";
}
