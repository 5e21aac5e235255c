using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// <c>artgrid-bench queue --quick</c> as a process, small: it must start and stop its own Redis, RabbitMQ and silos, run
/// every part and end with its line of figures, each one measured. No timing is asserted, only that every figure was
/// measured and is a number in its range. In the servers collection, so that its silos never compete with the cluster
/// tests' for cores.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class QueueBenchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-bench-queue-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 900_000)]
    public async Task TheQueueBenchMeasuresEveryFigureOnServersOfItsOwn()
    {
        (int exit, string stdout, string stderr) = await BenchProcess.RunAsync(
            ["queue", "--quick", "--images", "24", "--no-build", "--out", _dir], null, TimeSpan.FromMinutes(14));

        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        string last = stdout.TrimEnd().Split('\n')[^1];
        Dictionary<string, double> figures = last.Split(' ').Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
        foreach (string ratio in new[] { "bus_vs_embedded", "cached_jobs_ratio", "cached_jobs_vs_raw_image", "cached_hash_jobs_ratio", "contract_floor_ratio", "contract_floor_reply_only_ratio", "jpeg_vs_djpeg" })
        {
            Assert.True(figures.TryGetValue(ratio, out double value) && value > 0 && double.IsFinite(value), $"{ratio} is missing or not positive: {last}");
        }

        Assert.True(figures.TryGetValue("priority_overtake", out double overtake) && overtake is >= 0 and <= 1, $"priority_overtake is missing or not a share: {last}");

        // The servers it started are stopped: their ports take no connection any more.
        Match started = Regex.Match(stderr, @"starting Redis on 127\.0\.0\.1:(\d+) and RabbitMQ on port (\d+)");
        Assert.True(started.Success, $"the bench did not say which servers it started:\n{stderr}");
        foreach (Group port in new[] { started.Groups[1], started.Groups[2] })
        {
            using var client = new TcpClient();
            await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", int.Parse(port.Value, CultureInfo.InvariantCulture)));
        }

        // The raw numbers say what the last line says.
        using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, "queue-bench.json")));
        Assert.Empty(json.RootElement.GetProperty("failed").EnumerateArray());
        Assert.Equal(figures["cached_jobs_ratio"], json.RootElement.GetProperty("figures").GetProperty("cached_jobs_ratio").GetDouble(), 3);
    }
}
