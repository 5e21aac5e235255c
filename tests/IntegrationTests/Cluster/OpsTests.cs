using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ArtGrid.Contracts;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// <c>GET /v1/ops</c> of a real gateway over the real two-silo cluster: the silos' own snapshots in Redis, the
/// membership and RabbitMQ's counts, after real jobs with real images (a corrupt one, a poison message).
/// </summary>
[Collection(ServersCollection.Name)]
public sealed partial class OpsTests(ServersFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task TheOpsViewShowsBothSilosWithTheirDevices_AndThroughputAndCountsThatMovedAfterRealJobs()
    {
        await cluster.EnsureSilosAsync(2);
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        JsonElement before = await PollOpsAsync(gateway, ops => Silos(ops).Count(s => s.GetProperty("reporting").GetBoolean()) == 2, "both silos reporting");
        output.WriteLine(before.GetRawText());

        const int jobs = 6;
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(jobs, seed: 601);
        var commands = new List<ScoreImages>();
        for (int i = 0; i < jobs; i++)
        {
            commands.Add(await cluster.CommandAsync($"{cluster.RunId}-ops-{i}", images[i].Name, images[i].Bytes));
        }

        await cluster.SendAllAsync(commands);
        Assert.True(await cluster.Events.WaitForScoredAsync([.. commands.Select(c => c.JobId)], LongWait), cluster.LogTails());

        long imagesBefore = Throughput(before, "imagesScored");
        long jobsBefore = Throughput(before, "jobsCompleted");
        long missesBefore = before.GetProperty("cache").GetProperty("misses").GetInt64();
        JsonElement after = await PollOpsAsync(
            gateway,
            ops => Throughput(ops, "imagesScored") >= imagesBefore + jobs && Throughput(ops, "jobsCompleted") >= jobsBefore + jobs
                && ops.GetProperty("throughput").GetProperty("imagesPerSecond").GetDouble() > 0,
            $"{jobs} more images and jobs, and a throughput above 0");
        output.WriteLine(after.GetRawText());

        Assert.True(after.GetProperty("throughput").GetProperty("jobsPerSecond").GetDouble() > 0);
        Assert.True(after.GetProperty("cache").GetProperty("misses").GetInt64() >= missesBefore + jobs); // new images: no cache hit
        Assert.InRange(after.GetProperty("cache").GetProperty("hitRate").GetDouble(), 0, 1);

        // Both silos, Active, each with its devices and the model it scores with.
        JsonElement[] silos = [.. Silos(after).Where(s => s.GetProperty("reporting").GetBoolean())];
        Assert.Equal(["silo-1", "silo-2"], silos.Select(s => s.GetProperty("name").GetString()));
        foreach (JsonElement silo in silos)
        {
            string name = silo.GetProperty("name").GetString()!;
            Assert.Equal("Active", silo.GetProperty("status").GetString());
            Assert.StartsWith("127.0.0.1:", silo.GetProperty("address").GetString(), StringComparison.Ordinal);
            Assert.StartsWith("artgrid-resnet18/", silo.GetProperty("model").GetString(), StringComparison.Ordinal);
            Assert.True(silo.GetProperty("decodeWorkers").GetInt32() >= 1, $"{name} reports no decode worker");
            JsonElement[] devices = [.. silo.GetProperty("devices").EnumerateArray()];
            Assert.NotEmpty(devices);
            Assert.All(devices, d => Assert.StartsWith(name + "/", d.GetProperty("device").GetString(), StringComparison.Ordinal));
            Assert.All(devices, d => Assert.True(d.GetProperty("queueDepth").GetInt32() >= 0));
        }

        // The devices ran batches of the new images: as many images as batches' sizes add up to, across the cluster.
        JsonElement[] allDevices = [.. silos.SelectMany(s => s.GetProperty("devices").EnumerateArray())];
        Assert.True(allDevices.Sum(d => d.GetProperty("images").GetInt64()) >= jobs);
        JsonElement busiest = allDevices.MaxBy(d => d.GetProperty("batches").GetInt64());
        Assert.True(busiest.GetProperty("lastBatchSize").GetInt32() >= 1);
        Assert.InRange(busiest.GetProperty("meanBatchSize").GetDouble(), 1, 64);

        // The broker's view: the queue exists with both silos consuming it, and the last job's wait in it is known.
        JsonElement queue = after.GetProperty("queue");
        Assert.Equal(cluster.QueueName, queue.GetProperty("name").GetString());
        Assert.True(queue.GetProperty("depth").GetInt64() >= 0);
        Assert.True(queue.GetProperty("consumers").GetInt64() >= 2, queue.GetRawText());
        Assert.True(queue.GetProperty("ageMs").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.String, queue.GetProperty("ageObservedAt").ValueKind);
        Assert.Equal(cluster.QueueName + "_error", queue.GetProperty("errorQueue").GetString());
        Assert.Empty(after.GetProperty("warnings").EnumerateArray());
    }

    [Fact]
    public async Task ACorruptImageShowsAsADecodeFailureByCode_AndAPoisonMessageInTheErrorQueueCount()
    {
        await cluster.EnsureSilosAsync(2);
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        JsonElement before = await PollOpsAsync(gateway, ops => Silos(ops).Count(s => s.GetProperty("reporting").GetBoolean()) == 2, "both silos reporting");
        long failedBefore = Count(before.GetProperty("decodeFailures"), ErrorCodes.DecodeFailed);
        long errorsBefore = Count(before.GetProperty("imageErrors"), ErrorCodes.DecodeFailed);
        long errorQueueBefore = before.GetProperty("queue").GetProperty("errorDepth").GetInt64();

        // A real JPEG cut in half (distinct bytes for this run, so never a cached answer).
        (string name, byte[] bytes) = cluster.DistinctImages(1, seed: 602)[0];
        ScoreImages corrupt = await cluster.CommandAsync($"{cluster.RunId}-ops-corrupt", "cut-" + name, bytes[..(bytes.Length / 2)]);

        // Not a message at all: MassTransit cannot read it and moves it to the error queue.
        var factory = new ConnectionFactory { Uri = TestServers.RabbitMq };
        await using (IConnection connection = await factory.CreateConnectionAsync())
        await using (IChannel channel = await connection.CreateChannelAsync())
        {
            var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", MessageId = Guid.NewGuid().ToString(), Persistent = true };
            await channel.BasicPublishAsync("", cluster.QueueName, false, properties, "{ \"message\": not json either"u8.ToArray());
        }

        await cluster.SendAllAsync([corrupt]);
        Assert.True(await cluster.Events.WaitForScoredAsync([corrupt.JobId], LongWait), cluster.LogTails());
        Assert.Equal(ErrorCodes.DecodeFailed, cluster.Events.Scored[corrupt.JobId].First().Verdict.Images[0].Error?.Code);

        JsonElement after = await PollOpsAsync(
            gateway,
            ops => Count(ops.GetProperty("decodeFailures"), ErrorCodes.DecodeFailed) >= failedBefore + 1
                && ops.GetProperty("queue").GetProperty("errorDepth").GetInt64() >= errorQueueBefore + 1,
            "one more decode_failed and one more message in the error queue");
        output.WriteLine(after.GetRawText());
        Assert.True(Count(after.GetProperty("imageErrors"), ErrorCodes.DecodeFailed) >= errorsBefore + 1);
        Assert.DoesNotContain(after.GetProperty("decodeFailures").EnumerateObject(), p => p.Name == "ok");
    }

    [Fact]
    public async Task TheOpsViewIsForAdminsOnly()
    {
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        await GatewayTests.AssertProblemAsync(await gateway.Client(null).GetAsync("/v1/ops"), HttpStatusCode.Unauthorized, "unauthorized");
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["score"]).GetAsync("/v1/ops"), HttpStatusCode.Forbidden, "forbidden");
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["score+read"]).GetAsync("/v1/ops"), HttpStatusCode.Forbidden, "forbidden");
        HttpResponseMessage admin = await gateway.Http.GetAsync("/v1/ops");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal("application/json", admin.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheOrleansDashboardIsServedOnTheGatewayToAdminsOnly_AndSeesTheClustersSilos()
    {
        await cluster.EnsureSilosAsync(2);
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        await GatewayTests.AssertProblemAsync(await gateway.Client(null).GetAsync("/dashboard/"), HttpStatusCode.Unauthorized, "unauthorized");
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["score"]).GetAsync("/dashboard/"), HttpStatusCode.Forbidden, "forbidden");
        await GatewayTests.AssertProblemAsync(await gateway.Client(gateway.Keys["score+read"]).GetAsync("/dashboard/DashboardCounters"), HttpStatusCode.Forbidden, "forbidden");

        HttpResponseMessage page = await gateway.Http.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync("/dashboard/index.min.js")).StatusCode);

        // Its API answers from the silos' dashboard grains: both silos, by name.
        string counters = "";
        var clock = Stopwatch.StartNew();
        while (!(counters.Contains("silo-1", StringComparison.Ordinal) && counters.Contains("silo-2", StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < LongWait, $"the dashboard's counters never named both silos: {counters}");
            await Task.Delay(500);
            using HttpResponseMessage response = await gateway.Http.GetAsync("/dashboard/DashboardCounters");
            counters = await response.Content.ReadAsStringAsync();
        }

        // No live log streaming from the gateway.
        Assert.Equal(HttpStatusCode.Forbidden, (await gateway.Http.GetAsync("/dashboard/Trace")).StatusCode);
    }

    [Fact]
    public async Task EveryArtGridAndOrleansMetricTheGrafanaDashboardQueries_IsExportedWithTheLabelsItUses()
    {
        await cluster.EnsureSilosAsync(2);
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);

        // Real work on the silos first: a good image and a cut one, so that every instrument has recorded something.
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(2, seed: 603);
        ScoreImages good = await cluster.CommandAsync($"{cluster.RunId}-grafana-good", images[0].Name, images[0].Bytes);
        ScoreImages cut = await cluster.CommandAsync($"{cluster.RunId}-grafana-cut", "cut-" + images[1].Name, images[1].Bytes[..(images[1].Bytes.Length / 2)]);
        await cluster.SendAllAsync([good, cut]);
        Assert.True(await cluster.Events.WaitForScoredAsync([good.JobId, cut.JobId], LongWait), cluster.LogTails());
        await gateway.Http.GetAsync("/v1/ops"); // a request the gateway's HTTP metrics count

        using JsonDocument dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestAssets.RepositoryRoot, "deploy", "grafana", "artgrid.json")));
        string[] queries = [.. dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)];
        Assert.True(queries.Length >= 15, $"only {queries.Length} queries");

        // Exported series (name and label keys) of both silos and the gateway; Prometheus' export may lag by a scrape cache.
        Dictionary<string, HashSet<string>> exported = [];
        string[] missing = [];
        var clock = Stopwatch.StartNew();
        do
        {
            if (clock.Elapsed > TimeSpan.Zero)
            {
                await Task.Delay(1000);
            }

            exported = [];
            foreach (HttpClient scrape in cluster.Silos.Select(s => s.Http).Append(gateway.Http))
            {
                Series(await scrape.GetStringAsync("/metrics"), exported);
            }

            missing = [.. queries.SelectMany(q => Problems(q, exported))];
        }
        while (missing.Length > 0 && clock.Elapsed < TimeSpan.FromSeconds(30));

        Assert.True(missing.Length == 0, "the dashboard queries what is not exported:\n" + string.Join('\n', missing));
        // What is left is RabbitMQ's plugin's and Prometheus' own (not exported by ArtGrid; see deploy/grafana/prometheus.yml).
        string[] others = [.. queries.SelectMany(q => MetricNames().Matches(ByClauses().Replace(q, "")).Select(m => m.Value)).Where(n => !IsOurs(n)).Distinct().Order(StringComparer.Ordinal)];
        output.WriteLine("not ArtGrid's: " + string.Join(", ", others));
        Assert.All(others, n => Assert.True(n.StartsWith("rabbitmq_detailed_queue_", StringComparison.Ordinal) || n == "up", n));
    }

    /// <summary>
    /// A hundred reads in a row each answer with both silos, and a silo's snapshot in Redis (written every 2 s) stays
    /// small. What the view costs is printed, not asserted (a timing belongs to a benchmark): the latency of
    /// <c>GET /v1/ops</c> over the two silos (Redis, the membership and the broker read at once) and the snapshots' size.
    /// </summary>
    [Fact]
    public async Task RepeatedReads_EachAnswerWithBothSilos_AndSnapshotsStaySmall()
    {
        await cluster.EnsureSilosAsync(2);
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        await PollOpsAsync(gateway, ops => Silos(ops).Count(s => s.GetProperty("reporting").GetBoolean()) == 2, "both silos reporting");

        const int requests = 100;
        var latencies = new double[requests];
        for (int i = 0; i < requests; i++)
        {
            long start = Stopwatch.GetTimestamp();
            using HttpResponseMessage response = await gateway.Http.GetAsync("/v1/ops");
            string body = await response.Content.ReadAsStringAsync();
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using JsonDocument ops = JsonDocument.Parse(body);
            Assert.Equal(2, Silos(ops.RootElement).Count(s => s.GetProperty("reporting").GetBoolean()));
        }

        Array.Sort(latencies);
        StackExchange.Redis.IDatabase redis = await cluster.Redis.GetDatabaseAsync();
        long[] sizes = [.. await Task.WhenAll(cluster.Silos.Select(s => redis.StringLengthAsync(
            ArtGrid.Hosting.Operations.OpsKeys.Silo(cluster.RunId, cluster.RunId, s.Name))))];
        output.WriteLine(string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"ops_requests={requests} ops_p50_ms={latencies[requests / 2]:0.00} ops_p95_ms={latencies[requests * 95 / 100]:0.00} ops_max_ms={latencies[^1]:0.00} snapshot_bytes={string.Join('/', sizes)}"));
        // Two devices, a few error codes: a snapshot is well under 4 KiB (540 bytes when measured), whatever the load.
        Assert.All(sizes, size => Assert.InRange(size, 1, 4096));
    }

    /// <summary>Reads /v1/ops every half second until <paramref name="condition"/> holds; fails after <see cref="LongWait"/>. Waiting, not timing.</summary>
    internal static async Task<JsonElement> PollOpsAsync(GatewayProcess gateway, Func<JsonElement, bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        string last = "";
        while (clock.Elapsed < LongWait)
        {
            using HttpResponseMessage response = await gateway.Http.GetAsync("/v1/ops");
            last = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                JsonElement ops = JsonDocument.Parse(last).RootElement.Clone();
                if (condition(ops))
                {
                    return ops;
                }
            }

            await Task.Delay(500);
        }

        Assert.Fail($"/v1/ops never showed {what}; last answer: {last}\n--- gateway ---\n{string.Join('\n', gateway.Log.Split('\n').TakeLast(30))}");
        return default;
    }

    /// <summary>The problems of one query: an ArtGrid, Orleans or ASP.NET Core metric not exported, or a label it groups or filters by that the metric lacks.</summary>
    private static IEnumerable<string> Problems(string query, Dictionary<string, HashSet<string>> exported)
    {
        string[] names = [.. MetricNames().Matches(ByClauses().Replace(query, "")).Select(m => m.Value).Where(IsOurs).Distinct()];
        string[] labels = [.. LabelUses().Matches(query)
            .SelectMany(m => m.Groups["by"].Success ? m.Groups["by"].Value.Split(',') : [m.Groups["key"].Value])
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && l is not ("instance" or "job"))
            .Distinct()];
        foreach (string name in names)
        {
            if (!exported.TryGetValue(name, out HashSet<string>? keys))
            {
                yield return $"{name} (in {query})";
                continue;
            }

            foreach (string label in labels.Where(l => !keys.Contains(l)))
            {
                yield return $"{name} has no label {label} (in {query})";
            }
        }
    }

    private static bool IsOurs(string name) =>
        name.StartsWith("artgrid_", StringComparison.Ordinal) || name.StartsWith("orleans_", StringComparison.Ordinal) || name.StartsWith("http_server_", StringComparison.Ordinal);

    /// <summary>Adds each series of a Prometheus text exposition: its name and label keys.</summary>
    private static void Series(string text, Dictionary<string, HashSet<string>> exported)
    {
        foreach (string line in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            int brace = line.IndexOf('{', StringComparison.Ordinal);
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            string name = line[..(brace >= 0 && brace < space ? brace : space)];
            HashSet<string> keys = exported.TryGetValue(name, out HashSet<string>? known) ? known : exported[name] = [];
            if (brace >= 0 && brace < space)
            {
                foreach (System.Text.RegularExpressions.Match label in LabelKeys().Matches(line[brace..line.LastIndexOf('}')]))
                {
                    keys.Add(label.Groups[1].Value);
                }
            }
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\b[a-z][a-z0-9_]*_[a-z0-9_]+\b(?=\s*[\[{)])|\bup\b")]
    private static partial System.Text.RegularExpressions.Regex MetricNames();

    [System.Text.RegularExpressions.GeneratedRegex(@"\bby\s*\([^)]*\)")]
    private static partial System.Text.RegularExpressions.Regex ByClauses();

    [System.Text.RegularExpressions.GeneratedRegex(@"\bby\s*\((?<by>[^)]*)\)|[{,]\s*(?<key>[a-z_]+)\s*(=|!=|=~|!~)")]
    private static partial System.Text.RegularExpressions.Regex LabelUses();

    [System.Text.RegularExpressions.GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""")]
    private static partial System.Text.RegularExpressions.Regex LabelKeys();

    private static JsonElement[] Silos(JsonElement ops) => [.. ops.GetProperty("silos").EnumerateArray()];

    private static long Throughput(JsonElement ops, string name) => ops.GetProperty("throughput").GetProperty(name).GetInt64();

    private static long Count(JsonElement counts, string code) => counts.TryGetProperty(code, out JsonElement n) ? n.GetInt64() : 0;
}
