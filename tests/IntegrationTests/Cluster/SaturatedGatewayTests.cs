using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A cluster of its own whose devices are slow on purpose (simulated, 1.5 s a batch of one), so that a backlog of jobs
/// saturates them and the silos' intake gates close: the gateway then answers a caller who waits with 503 and
/// <c>Retry-After</c>, at once, instead of holding it.
/// </summary>
public sealed class SaturatedGatewayTests : IAsyncLifetime
{
    private readonly ServersFixture _servers = new()
    {
        ExtraSettings = new Dictionary<string, string>
        {
            ["ArtGrid__Inference__Devices__0"] = "sim:0",
            ["ArtGrid__Inference__Simulated__BaseMs"] = "1500",
            ["ArtGrid__Inference__MaxBatchSize"] = "1",
            ["ArtGrid__Inference__PauseIntakeQueueBatches"] = "1",
            ["ArtGrid__Inference__SaturatedQueueBatches"] = "1",
        },
    };

    public Task InitializeAsync() => _servers.InitializeAsync();

    public Task DisposeAsync() => _servers.DisposeAsync();

    [Fact]
    public async Task ASaturatedClusterAnswersWaitingCallers503WithRetryAfter()
    {
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(_servers, new Dictionary<string, string>
        {
            ["ArtGrid__Gateway__MaxWaitSeconds"] = "1",
        });
        HttpClient http = gateway.Client(gateway.Keys["score+read"]);
        IReadOnlyList<(string Name, byte[] Bytes)> images = _servers.DistinctImages(40, seed: 201);

        // A backlog: queued jobs are always accepted (the broker holds them).
        foreach ((string name, byte[] bytes) in images.Take(16))
        {
            HttpResponseMessage queued = await http.PostAsJsonAsync("/v1/jobs", new { images = new[] { new { name, base64 = Convert.ToBase64String(bytes) } } });
            Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        }

        // Callers who wait meet the closed intake while the backlog drains (about 12 s on the two devices).
        HttpResponseMessage? overloaded = null;
        var clock = Stopwatch.StartNew();
        var answers = new List<HttpStatusCode>();
        foreach ((string name, byte[] bytes) in images.Skip(16))
        {
            HttpResponseMessage answer = await http.PostAsJsonAsync("/v1/score", new { name, base64 = Convert.ToBase64String(bytes) });
            answers.Add(answer.StatusCode);
            if (answer.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                overloaded = answer;
                break;
            }

            Assert.Contains(answer.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Accepted });
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                break;
            }
        }

        Assert.True(overloaded is not null, "no 503 while the backlog drained; answers: " + string.Join(", ", answers) + "\n" + _servers.LogTails());
        await GatewayTests.AssertProblemAsync(overloaded, HttpStatusCode.ServiceUnavailable, "overloaded");
        Assert.InRange(overloaded.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
    }
}
