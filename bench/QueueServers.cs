using System.Diagnostics;

namespace ArtGrid.Bench;

/// <summary>
/// Redis and RabbitMQ of a bench run's own, started with deploy/servers.sh on free ports and a temporary state folder
/// (as bench/gateway-load.sh and the tests do), and stopped and removed when disposed, however the run ends.
/// </summary>
internal sealed class QueueServers : IAsyncDisposable
{
    private readonly string _script;
    private readonly Dictionary<string, string> _environment;
    private readonly string _state;
    private bool _started;

    private QueueServers(string root, int redisPort, int amqpPort)
    {
        _script = Path.Combine(root, "deploy", "servers.sh");
        _state = Path.Combine(Path.GetTempPath(), $"artgrid-queue-bench-{Guid.NewGuid():N}");
        _environment = new Dictionary<string, string>
        {
            ["ARTGRID_REDIS_PORT"] = ChildProcess.Text(redisPort),
            ["ARTGRID_AMQP_PORT"] = ChildProcess.Text(amqpPort),
            ["ARTGRID_STATE_DIR"] = _state,
        };
        Redis = $"127.0.0.1:{redisPort}";
        Amqp = new Uri($"amqp://guest:guest@127.0.0.1:{amqpPort}/");
    }

    public string Redis { get; }

    public Uri Amqp { get; }

    /// <summary>Starts both servers on free ports (the broker's Erlang distribution port, AMQP + 20000, free too).</summary>
    public static async Task<QueueServers> StartAsync(string root, CancellationToken cancellationToken)
    {
        int amqpPort = ChildProcess.FreePort();
        while (amqpPort + 20000 > 65535 || !IsFree(amqpPort + 20000))
        {
            amqpPort = ChildProcess.FreePort();
        }

        var servers = new QueueServers(root, ChildProcess.FreePort(), amqpPort);
        Progress.Say($"starting Redis on {servers.Redis} and RabbitMQ on port {amqpPort} (deploy/servers.sh up)");
        servers._started = true;
        try
        {
            await servers.RunScriptAsync("up", cancellationToken);
        }
        catch
        {
            await servers.DisposeAsync();
            throw;
        }

        return servers;
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            _started = false;
            await BenchCluster.Try("stop the servers", () => RunScriptAsync("down", CancellationToken.None));
        }

        await BenchCluster.Try("remove the servers' state", () =>
        {
            if (Directory.Exists(_state))
            {
                Directory.Delete(_state, recursive: true);
            }

            return Task.CompletedTask;
        });
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private async Task RunScriptAsync(string command, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(_script);
        start.ArgumentList.Add(command);
        foreach ((string key, string value) in _environment)
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start) ?? throw new SetupException($"could not run {_script}");
        Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        Task<string> errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new SetupException($"deploy/servers.sh {command} exited {process.ExitCode}:\n{await output}{await errors}");
        }
    }
}
