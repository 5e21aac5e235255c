using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// Real silo processes given a share of the machine (ArtGrid:Silo:Cores, as deploy/local-cluster.sh gives each of its
/// silos) start the decode workers of that share, not one per core of the machine; the sandbox's own setting wins.
/// </summary>
public sealed class SiloCoresTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ASiloGivenOneCore_RunsOneDecodeWorker_AndAnExplicitWorkerCountWins()
    {
        await TestServers.EnsureRunningAsync();
        string runId = "cores" + Guid.NewGuid().ToString("N")[..8];
        Dictionary<string, string> Settings(string suffix, params (string Key, string Value)[] extra)
        {
            var settings = new Dictionary<string, string>(ServersFixture.TestClusterSettings)
            {
                ["ArtGrid__Silo__ClusterId"] = $"{runId}-{suffix}",
                ["ArtGrid__Silo__ServiceId"] = $"{runId}-{suffix}",
                ["ArtGrid__Bus__QueueName"] = $"score-images-{runId}-{suffix}",
                ["ArtGrid__Silo__Cores"] = "1",
            };
            // The share alone decides the ONNX Runtime threads here, as in a deployment.
            settings.Remove("ArtGrid__Inference__IntraOpThreads");
            foreach ((string key, string value) in extra)
            {
                settings[key] = value;
            }

            return settings;
        }

        Task<SiloProcess> shareOnly = SiloProcess.StartAsync("one-core", Settings("a"));
        Task<SiloProcess> withWorkers = SiloProcess.StartAsync("one-core-three-workers", Settings("b", ("ArtGrid__Preprocessing__Sandbox__Workers", "3")));
        await using SiloProcess first = await shareOnly;
        await using SiloProcess second = await withWorkers;

        int[] firstWorkers = DecodeWorkers(first);
        int[] secondWorkers = DecodeWorkers(second);
        output.WriteLine($"{Environment.ProcessorCount} cores; {first.Name}: decode workers {string.Join(", ", firstWorkers)}; {second.Name}: {string.Join(", ", secondWorkers)}");
        Assert.Single(firstWorkers);
        Assert.Contains("Decode sandbox: 1 worker processes", first.Log, StringComparison.Ordinal);
        Assert.Equal(3, secondWorkers.Length);
        Assert.Contains("Decode sandbox: 3 worker processes", second.Log, StringComparison.Ordinal);
    }

    /// <summary>The silo's children that are decode workers (its only children, but checked by their program).</summary>
    private static int[] DecodeWorkers(SiloProcess silo) =>
        [.. silo.ChildProcessIds().Where(pid =>
        {
            try
            {
                return File.ReadAllText($"/proc/{pid}/cmdline").Contains("artgrid-decode-worker", StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        })];
}
