using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ArtGrid.Contracts;
using MassTransit;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A one-silo cluster of its own on the real Redis and RabbitMQ, logging JSON (scopes, trace ids) with the consumer's
/// per-job line on: what operations see of a silo.
/// </summary>
public sealed class OperationsFixture : IAsyncLifetime
{
    public ServersFixture Servers { get; } = new()
    {
        SiloCount = 1,
        ExtraSettings = new Dictionary<string, string>
        {
            ["ArtGrid__Logging__Format"] = "json",
            ["Logging__LogLevel__ArtGrid.Hosting.Messaging"] = "Debug",
        },
    };

    public SiloProcess Silo => Servers.Silos[0];

    public Task InitializeAsync() => Servers.InitializeAsync();

    public Task DisposeAsync() => Servers.DisposeAsync();
}

/// <summary>
/// The operations listener of real silo processes: liveness, readiness with each condition named, Prometheus metrics,
/// and a trace that starts in this process and reaches the silo's consumer over RabbitMQ.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class OperationsTests(OperationsFixture fixture, ITestOutputHelper output) : IClassFixture<OperationsFixture>
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(3);

    private static readonly string[] SiloChecks = ["active-model", "masstransit-bus", "orleans-membership", "redis"];

    [Fact]
    public async Task ARunningSilo_IsLive_AndReadyWithEveryCheckHealthy()
    {
        using HttpResponseMessage live = await fixture.Silo.Http.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using (JsonDocument body = JsonDocument.Parse(await live.Content.ReadAsStringAsync()))
        {
            Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        }

        using HttpResponseMessage ready = await fixture.Silo.Http.GetAsync("/health/ready");
        string text = await ready.Content.ReadAsStringAsync();
        output.WriteLine(text);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Dictionary<string, (string Status, string Description)> checks = Checks(text);
        Assert.Equal(SiloChecks, checks.Keys.Order(StringComparer.Ordinal));
        Assert.All(checks.Values, c => Assert.Equal("Healthy", c.Status));
        Assert.Contains($"{TestAssets.DefaultModelId} is active and loaded", checks["active-model"].Description, StringComparison.Ordinal);
        Assert.Contains($"{fixture.Silo.Name} (", checks["orleans-membership"].Description, StringComparison.Ordinal);
        Assert.Contains(TestServers.Redis, checks["redis"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASiloThatCannotReachTheBroker_IsLiveButNotReady_AndSaysTheBusIsWhy()
    {
        ServersFixture servers = fixture.Servers;
        // Its own cluster (so that no job of another test is placed on it), and a broker address where nothing listens.
        int closed = TestPorts.Free();
        var settings = new Dictionary<string, string>(servers.SiloSettings)
        {
            ["ArtGrid__Silo__ClusterId"] = servers.RunId + "-nobus",
            ["ArtGrid__Silo__ServiceId"] = servers.RunId + "-nobus",
            ["ConnectionStrings__RabbitMq"] = $"amqp://artgrid:not-to-be-logged@127.0.0.1:{closed}/",
        };
        await using SiloProcess silo = await SiloProcess.StartAsync("silo-nobus", settings, waitFor: "/health/live");

        // Orleans and the model come up while the bus keeps failing to connect: wait for that state, then look at it.
        (HttpStatusCode Code, string Body) ready = (0, "");
        await PollAsync(
            async () =>
            {
                ready = await GetAsync(silo.Http, "/health/ready");
                Dictionary<string, (string Status, string Description)> seen = Checks(ready.Body);
                return seen.Count == SiloChecks.Length && seen.Count(c => c.Value.Status == "Healthy") == 3;
            },
            () => $"the silo's other checks did not all become healthy; last answer {ready.Code}: {ready.Body}\n{silo.Log}");
        output.WriteLine(ready.Body);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Code);
        Dictionary<string, (string Status, string Description)> checks = Checks(ready.Body);
        Assert.Equal("Unhealthy", checks["masstransit-bus"].Status);
        Assert.All(SiloChecks.Where(c => c != "masstransit-bus"), c => Assert.Equal("Healthy", checks[c].Status));
        Assert.Equal("Unhealthy", JsonDocument.Parse(ready.Body).RootElement.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(silo.Http, "/health/live")).Code);
        // The broker's password is in the connection string, and nowhere in what the silo says.
        Assert.DoesNotContain("not-to-be-logged", ready.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("not-to-be-logged", silo.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterAJob_MetricsServeArtGridOrleansRuntimeAndKestrelInstruments()
    {
        ServersFixture servers = fixture.Servers;
        (string name, byte[] bytes) = servers.DistinctImages(1, seed: 31)[0];
        ScoreImages command = await servers.CommandAsync($"{servers.RunId}-metrics", name, bytes);
        await servers.SendAllAsync([command]);
        Assert.True(await servers.Events.WaitForScoredAsync([command.JobId], LongWait), servers.LogTails());

        // The job was answered before its counter is read: Prometheus' export may lag the recording by a scrape cache.
        string metrics = "";
        await PollAsync(
            async () =>
            {
                (HttpStatusCode code, metrics) = await GetAsync(fixture.Silo.Http, "/metrics");
                return code == HttpStatusCode.OK && Lines(metrics, "artgrid_images_scored_total").Any();
            },
            () => $"no artgrid_images_scored_total in /metrics:\n{metrics}");

        // A real count, by outcome: the job's one image was scored and counted.
        Assert.Contains(Lines(metrics, "artgrid_images_scored_total"), l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.NotEmpty(Lines(metrics, "artgrid_inference_compute_duration_milliseconds_count"));
        Assert.NotEmpty(Lines(metrics, "orleans_catalog_activations"));
        Assert.NotEmpty(Lines(metrics, "dotnet_gc_collections_total"));
        Assert.NotEmpty(Lines(metrics, "kestrel_active_connections"));
        Assert.NotEmpty(Lines(metrics, "http_server_request_duration_seconds_count"));
    }

    [Fact]
    public async Task ACommandSentInsideAnActivity_IsHandledByTheSiloInTheSameTrace_WithItsJobIdInScope()
    {
        ServersFixture servers = fixture.Servers;
        using var source = new ActivitySource("ArtGrid.IntegrationTests");
        // A listener makes this process trace, as a traced caller (the gateway) does: the send joins the test's trace.
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "ArtGrid.IntegrationTests" or "MassTransit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);

        (string name, byte[] bytes) = servers.DistinctImages(1, seed: 32)[0];
        ScoreImages command = await servers.CommandAsync($"{servers.RunId}-traced", name, bytes);
        string traceId;
        using (Activity activity = source.StartActivity("submit")!)
        {
            traceId = activity.TraceId.ToHexString();
            await servers.SendAllAsync([command]);
        }

        Assert.True(await servers.Events.WaitForScoredAsync([command.JobId], LongWait), servers.LogTails());
        JsonElement? line = null;
        await Wait.UntilAsync(
            () => (line = ConsumerLine(fixture.Silo.Log, command.JobId)) is not null,
            TimeSpan.FromSeconds(30),
            $"no consumer log line for {command.JobId}");
        output.WriteLine(line!.Value.GetRawText());

        JsonElement[] scopes = [.. line.Value.GetProperty("Scopes").EnumerateArray()];
        Assert.Contains(scopes, s => s.TryGetProperty("JobId", out JsonElement id) && id.GetString() == command.JobId);
        Assert.Contains(scopes, s => s.TryGetProperty("TraceId", out JsonElement id) && id.GetString() == traceId);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", line.Value.GetProperty("Timestamp").GetString());
    }

    [Fact]
    public async Task TheGatewayIsReadyWithItsChecks_ServesMetricsToAdminsOnly_AndCarriesACallersTraceIntoTheSilo()
    {
        ServersFixture servers = fixture.Servers;
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(servers);
        HttpClient anonymous = gateway.Client(null);

        HttpResponseMessage ready = await anonymous.GetAsync("/health/ready");
        string body = await ready.Content.ReadAsStringAsync();
        Assert.True(ready.StatusCode == HttpStatusCode.OK, body);
        using (JsonDocument report = JsonDocument.Parse(body))
        {
            string[] checks = [.. report.RootElement.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).Order(StringComparer.Ordinal)];
            Assert.Equal(["cluster", "masstransit-bus", "redis"], checks);
        }

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        await GatewayTests.AssertProblemAsync(await anonymous.GetAsync("/metrics"), HttpStatusCode.Unauthorized, "unauthorized");
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["score+read"]).GetAsync("/metrics"), HttpStatusCode.Forbidden, "forbidden");

        // A caller's W3C trace context goes through the gateway, the bus and into the silo's consumer.
        string traceId = ActivityTraceId.CreateRandom().ToHexString();
        (string name, byte[] bytes) = servers.DistinctImages(1, seed: 33)[0];
        string jobId = $"{servers.RunId}-gateway-traced";
        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs?wait=true")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { jobId, images = new[] { new { name, base64 = Convert.ToBase64String(bytes) } } }),
        };
        post.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        HttpResponseMessage posted = await gateway.Client(gateway.Keys["score+read"]).SendAsync(post);
        Assert.True(posted.StatusCode == HttpStatusCode.OK, await posted.Content.ReadAsStringAsync());

        JsonElement? line = null;
        await Wait.UntilAsync(() => (line = ConsumerLine(fixture.Silo.Log, jobId)) is not null, TimeSpan.FromSeconds(30), $"no consumer log line for {jobId}");
        JsonElement[] scopes = [.. line!.Value.GetProperty("Scopes").EnumerateArray()];
        Assert.Contains(scopes, s => s.TryGetProperty("TraceId", out JsonElement id) && id.GetString() == traceId);

        // Admins scrape the gateway: its HTTP server's own instruments, with the requests just made.
        string metrics = await gateway.Http.GetStringAsync("/metrics");
        Assert.Contains("http_server_request_duration", metrics, StringComparison.Ordinal);
    }

    /// <summary>Polls <paramref name="condition"/> every half second until it holds; fails with <paramref name="failure"/> after <see cref="LongWait"/>. Waiting, not timing.</summary>
    private static async Task PollAsync(Func<Task<bool>> condition, Func<string> failure)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < LongWait, failure());
            await Task.Delay(500);
        }
    }

    /// <summary>The consumer's "scored" entry (event 4003) for <paramref name="jobId"/> in a JSON log, if written yet.</summary>
    private static JsonElement? ConsumerLine(string log, string jobId)
    {
        foreach (string text in log.Split('\n'))
        {
            if (!text.StartsWith('{') || !text.Contains(jobId, StringComparison.Ordinal))
            {
                continue;
            }

            JsonElement entry = JsonDocument.Parse(text).RootElement;
            if (entry.GetProperty("EventId").GetInt32() == 4003)
            {
                return entry;
            }
        }

        return null;
    }

    private static Dictionary<string, (string Status, string Description)> Checks(string body)
    {
        var checks = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        try
        {
            using JsonDocument json = JsonDocument.Parse(body);
            foreach (JsonElement check in json.RootElement.GetProperty("checks").EnumerateArray())
            {
                checks[check.GetProperty("name").GetString()!] = (check.GetProperty("status").GetString()!, check.GetProperty("description").GetString() ?? "");
            }
        }
        catch (JsonException)
        {
            // Not an answer of the health endpoint (yet): no checks.
        }

        return checks;
    }

    private static IEnumerable<string> Lines(string metrics, string name) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal));

    private static async Task<(HttpStatusCode Code, string Body)> GetAsync(HttpClient http, string path)
    {
        try
        {
            using HttpResponseMessage response = await http.GetAsync(path);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException ex)
        {
            return (0, ex.Message);
        }
    }
}
