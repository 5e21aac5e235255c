using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using ArtGrid.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>The REST gateway as a real process in front of the real cluster: jobs go over the bus, records come from Redis.</summary>
[Collection(ServersCollection.Name)]
public sealed class GatewayTests(ServersFixture cluster)
{
    [Fact]
    public async Task PostedJobsAreScoredThroughTheBusAndTheirRecordsServed()
    {
        await cluster.EnsureSilosAsync(2);
        int port = FreePort();
        using Process gateway = StartGateway(port);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        gateway.OutputDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        gateway.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        gateway.BeginOutputReadLine();
        gateway.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
            await WaitHealthyAsync(http, gateway, log);
            string image = Convert.ToBase64String(await File.ReadAllBytesAsync(TestAssets.Photo));

            // Waiting for the verdict: request/response over the bus.
            HttpResponseMessage waited = await http.PostAsJsonAsync("/v1/jobs?wait=true", new { images = new[] { new { name = "cat.jpg", base64 = image } } });
            Assert.Equal(HttpStatusCode.OK, waited.StatusCode);
            JobVerdict verdict = (await waited.Content.ReadFromJsonAsync<JobVerdict>(RecordsJson))!;
            Assert.Contains(verdict.Label, new[] { "ai", "human", "uncertain" });
            Assert.Equal("cat.jpg", Assert.Single(verdict.Images).Name);

            // Fire and forget: 202 with the record's address, which shows the verdict once the job completes.
            string jobId = $"{cluster.RunId}-gateway";
            HttpResponseMessage accepted = await http.PostAsJsonAsync("/v1/jobs", new { jobId, images = new[] { new { name = "cat.jpg", base64 = image } } });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            Assert.Equal($"/v1/jobs/{jobId}", accepted.Headers.Location?.ToString());
            JobRecord? record = null;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromMinutes(2) && record?.Status != JobStatus.Completed)
            {
                HttpResponseMessage polled = await http.GetAsync(accepted.Headers.Location);
                record = polled.StatusCode == HttpStatusCode.OK ? await polled.Content.ReadFromJsonAsync<JobRecord>(RecordsJson) : null;
                await Task.Delay(100);
            }

            Assert.Equal(JobStatus.Completed, record?.Status);
            Assert.Equal(verdict.AiProbability, record!.Verdict!.AiProbability); // same bytes: same score (from the cache)
            Assert.True(record.Verdict.Images[0].Cached);

            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/v1/jobs/{cluster.RunId}-never-sent")).StatusCode);
            HttpResponseMessage bad = await http.PostAsJsonAsync("/v1/jobs", new { images = new[] { new { name = "x.jpg", base64 = "not base64!" } } });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
        }
    }

    private static readonly JsonSerializerOptions RecordsJson = new(JsonSerializerDefaults.Web);

    private Process StartGateway(int port)
    {
        // The gateway is an ASP.NET Core program: run it from its own output folder, built with the same configuration.
        string folder = SiloProcess.ProjectOutput("Gateway");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        start.ArgumentList.Add(Path.Combine(folder, "artgrid-gateway.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.Environment["ConnectionStrings__Redis"] = TestServers.Redis;
        start.Environment["ConnectionStrings__RabbitMq"] = TestServers.RabbitMq.ToString();
        foreach ((string key, string value) in cluster.SiloSettings.Where(kv => kv.Key.StartsWith("ArtGrid__Silo__", StringComparison.Ordinal) || kv.Key.StartsWith("ArtGrid__Bus__", StringComparison.Ordinal)))
        {
            start.Environment[key] = value;
        }

        return Process.Start(start)!;
    }

    private static async Task WaitHealthyAsync(HttpClient http, Process gateway, IEnumerable<string> log)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            Assert.False(gateway.HasExited, "the gateway exited:\n" + string.Join('\n', log));
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(200);
        }

        Assert.Fail("the gateway did not answer /healthz:\n" + string.Join('\n', log));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
