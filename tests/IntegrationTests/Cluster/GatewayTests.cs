using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ArtGrid.Contracts;

namespace ArtGrid.Tests.Cluster;

/// <summary>The REST gateway as a real process in front of the real cluster: jobs go over the bus, records come from Redis.</summary>
[Collection(ServersCollection.Name)]
public sealed class GatewayTests(ServersFixture cluster)
{
    [Fact]
    public async Task PostedJobsAreScoredThroughTheBusAndTheirRecordsServed()
    {
        await cluster.EnsureSilosAsync(2);
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster);
        HttpClient http = gateway.Http;
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

    private static readonly JsonSerializerOptions RecordsJson = new(JsonSerializerDefaults.Web);
}
