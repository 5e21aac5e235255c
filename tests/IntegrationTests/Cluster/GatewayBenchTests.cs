using System.Diagnostics;
using System.Globalization;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// <c>artgrid-bench gateway</c> as a process, small, on the test servers: it must start and stop its own silos and
/// gateway, get every request answered and checked, and end with its line of figures. No timing is asserted: only that
/// each figure was measured. In the servers collection, so that its silos never compete with the cluster tests' for cores.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class GatewayBenchTests : IDisposable
{
    private static readonly string[] Keys =
    [
        "gateway_rps_uncached", "gateway_rps_cached", "bus_rps_uncached", "bus_rps_cached", "gateway_vs_bus_uncached",
        "gateway_vs_bus_cached", "p50_ms_cached", "p99_ms_cached", "p50_ms_uncached", "p99_ms_uncached",
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-bench-gateway-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 600_000)]
    public async Task TheGatewayBenchMeasuresEveryPhaseWithoutFailures()
    {
        await TestServers.EnsureRunningAsync();

        (int exit, string stdout, string stderr) = await BenchProcess.RunAsync(
            "gateway", "--redis", TestServers.Redis, "--amqp", TestServers.RabbitMq.ToString(),
            "--images", "8", "--concurrency", "2", "--rounds", "2", "--out", _dir);

        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        string last = stdout.TrimEnd().Split('\n')[^1];
        Dictionary<string, string> pairs = last.Split(' ').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("0", pairs["failures"]);
        foreach (string key in Keys)
        {
            Assert.True(pairs.ContainsKey(key), $"{key} is missing from: {last}");
            Assert.True(double.Parse(pairs[key], CultureInfo.InvariantCulture) > 0, $"{key} is not positive: {last}");
        }

        // 8 images through each of the four phases, plus the warm-up, every one answered and checked.
        string[] requests = File.ReadAllLines(Path.Combine(_dir, "gateway-load-requests.csv"));
        string[][] measured = [.. requests.Skip(1).Select(l => l.Split(',')).Where(f => !f[1].StartsWith("warm-", StringComparison.Ordinal))];
        Assert.Equal(32, measured.Length);
        Assert.All(measured, f => Assert.Equal("1", f[5]));
        // The cached phases were answered from the result cache, the uncached ones were not.
        Assert.All(measured, f => Assert.Equal(f[1].EndsWith("-cached", StringComparison.Ordinal) ? "1" : "0", f[6]));
    }
}
