using System.Diagnostics;
using System.Net.Sockets;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// The real Redis and RabbitMQ servers the test command starts (deploy/servers.sh, on test ports). Their addresses
/// come from the environment test.sh exports; <see cref="RestartAsync"/> restarts one of them through the same script.
/// </summary>
public static class TestServers
{
    public static int RedisPort => Port("ARTGRID_REDIS_PORT", 6390);

    public static int AmqpPort => Port("ARTGRID_AMQP_PORT", 5690);

    public static string Redis => $"127.0.0.1:{RedisPort}";

    public static Uri RabbitMq => new($"amqp://guest:guest@127.0.0.1:{AmqpPort}/");

    /// <summary>Fails with instructions when the servers are not running (the tests must not pass without them).</summary>
    public static async Task EnsureRunningAsync()
    {
        foreach ((string name, int port) in new[] { ("Redis", RedisPort), ("RabbitMQ", AmqpPort) })
        {
            if (!await AcceptsAsync(port))
            {
                throw new InvalidOperationException(
                    $"{name} is not listening on 127.0.0.1:{port}. Run the tests with ./test.sh, which starts the servers " +
                    "(or start them with ARTGRID_REDIS_PORT=6390 ARTGRID_AMQP_PORT=5690 deploy/servers.sh up).");
            }
        }
    }

    /// <summary>Restarts "redis" or "rabbitmq" gracefully (data kept) and returns once it answers again.</summary>
    public static async Task RestartAsync(string server)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestAssets.RepositoryRoot,
        };
        start.ArgumentList.Add(Path.Combine(TestAssets.RepositoryRoot, "deploy", "servers.sh"));
        start.ArgumentList.Add("restart");
        start.ArgumentList.Add(server);
        start.Environment["ARTGRID_REDIS_PORT"] = RedisPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["ARTGRID_AMQP_PORT"] = AmqpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"servers.sh restart {server} failed ({process.ExitCode}): {await stdout}{await stderr}");
        }
    }

    /// <summary>
    /// Stops the RabbitMQ server's Erlang VM with SIGSTOP until the result is disposed (SIGCONT): connections stay open
    /// and the kernel still takes what clients send, but the broker answers nothing, as when it hangs or dies mid-confirm.
    /// </summary>
    public static IDisposable FreezeRabbitMq()
    {
        string stateDir = Environment.GetEnvironmentVariable("ARTGRID_STATE_DIR") is { Length: > 0 } dir
            ? dir
            : Path.Combine(TestAssets.RepositoryRoot, ".artgrid", "servers");
        string pidFile = Path.Combine(stateDir, "rabbitmq.pid");
        int pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Signal("STOP", pid);
        return new Thaw(pid);
    }

    private static void Signal(string signal, int pid)
    {
        using Process kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} failed ({kill.ExitCode})");
        }
    }

    private sealed class Thaw(int pid) : IDisposable
    {
        public void Dispose() => Signal("CONT", pid);
    }

    public static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync("127.0.0.1", port, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static int Port(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out int port) ? port : fallback;

    /// <summary>The messages waiting (ready) in <paramref name="queue"/> on the test broker.</summary>
    public static async Task<uint> ReadyCountAsync(string queue)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = RabbitMq };
        await using RabbitMQ.Client.IConnection connection = await factory.CreateConnectionAsync();
        await using RabbitMQ.Client.IChannel channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>Removes a test's job queue, its error queue and the exchange of its name from the test broker.</summary>
    public static async Task DeleteQueuesAsync(string queue)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = RabbitMq };
        await using RabbitMQ.Client.IConnection connection = await factory.CreateConnectionAsync();
        foreach (string name in new[] { queue, queue + "_error" })
        {
            await using RabbitMQ.Client.IChannel channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(name, ifUnused: false, ifEmpty: false);
        }

        await using RabbitMQ.Client.IChannel exchanges = await connection.CreateChannelAsync();
        await exchanges.ExchangeDeleteAsync(queue, ifUnused: false);
    }
}
