using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A Redis server of one test's own (Debian's redis-server, which test.sh installs), for what no test may do to the
/// shared one: fill it, stop it for a while. Its append-only file, in a folder of its own, keeps the data across a
/// stop and start, as a deployment's does; killed and removed at the end.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private readonly int _port;
    private readonly string _folder;
    private Process _process;

    private PrivateRedis(Process process, int port, string folder, ConnectionMultiplexer connection)
    {
        _process = process;
        _port = port;
        _folder = folder;
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
        string folder = Directory.CreateTempSubdirectory("artgrid-redis-").FullName;
        Process process = Launch(port, folder);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true,abortConnect=true,connectTimeout=1000");
                return new PrivateRedis(process, port, folder, connection);
            }
            catch (RedisConnectionException) when (clock.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Kills the server (no shutdown, no save beyond what the append-only file has): clients get no answer.</summary>
    public async Task StopAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts the server again on its port, from its append-only file, and returns once it answers.</summary>
    public async Task StartAgainAsync()
    {
        _process.Dispose();
        _process = Launch(_port, _folder);
        var clock = Stopwatch.StartNew();
        while (!Connection.IsConnected || !await PingsAsync())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60) && !_process.HasExited, $"redis-server on {Address} did not come back");
            await Task.Delay(200);
        }
    }

    private async Task<bool> PingsAsync()
    {
        try
        {
            await Connection.GetDatabase().PingAsync();
            return true;
        }
        catch (RedisException)
        {
            return false;
        }
    }

    private static Process Launch(int port, string folder)
    {
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[]
        {
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", folder,
        })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
