using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A Redis server of one test's own (Debian's redis-server, which test.sh installs), for what no test may do to the
/// shared one: fill it, stop it. No persistence; killed at the end.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private readonly Process _process;

    private PrivateRedis(Process process, int port, ConnectionMultiplexer connection)
    {
        _process = process;
        Address = $"127.0.0.1:{port}";
        Connection = connection;
    }

    /// <summary>host:port, as a connection string.</summary>
    public string Address { get; }

    /// <summary>An admin connection (CONFIG SET is allowed).</summary>
    public ConnectionMultiplexer Connection { get; }

    public IServer Server => Connection.GetServer(Address);

    public static async Task<PrivateRedis> StartAsync()
    {
        int port = TestPorts.Free();
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true,abortConnect=true,connectTimeout=1000");
                return new PrivateRedis(process, port, connection);
            }
            catch (RedisConnectionException) when (clock.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
