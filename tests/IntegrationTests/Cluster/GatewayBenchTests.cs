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

        (int exit, string stdout, string stderr) = await RunBenchAsync(
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

    private static async Task<(int Exit, string Stdout, string Stderr)> RunBenchAsync(params string[] args)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string folder = Path.Combine(TestAssets.RepositoryRoot, "bench", "bin", configuration, "net10.0");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        start.ArgumentList.Add(Path.Combine(folder, "artgrid-bench.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM, which the bench answers by stopping its silos and gateway; then whatever is left is killed.
            Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }

            Assert.Fail($"the bench ran over 8 minutes:\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
