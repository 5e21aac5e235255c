using System.Diagnostics;
using System.Globalization;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A RabbitMQ server of one test's own with the management plugin (deploy/servers.sh, as the test servers are started,
/// on the test AMQP port + <c>offset</c>, its HTTP API on that + 10000, its data in a temporary folder), for what the
/// shared broker does not offer: the management API the deploy scripts use. Stopped and removed at the end.
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    private readonly string _state;

    private PrivateRabbitMq(int amqpPort, string state)
    {
        AmqpPort = amqpPort;
        _state = state;
    }

    public int AmqpPort { get; }

    public int ManagementPort => AmqpPort + 10_000;

    public Uri Address => new($"amqp://guest:guest@127.0.0.1:{AmqpPort}/");

    /// <summary>The management HTTP API, as the deploy scripts take it (ARTGRID_RABBITMQ_API).</summary>
    public string ManagementApi => $"http://127.0.0.1:{ManagementPort}";

    /// <summary>
    /// Starts the server on the test AMQP port + <paramref name="offset"/> (each test class that needs one has its own
    /// offset, so that two never share a node) and returns once it is ready.
    /// </summary>
    public static async Task<PrivateRabbitMq> StartAsync(int offset)
    {
        var rabbit = new PrivateRabbitMq(TestServers.AmqpPort + offset, Directory.CreateTempSubdirectory("artgrid-rabbitmq-").FullName);
        (int exit, string stdout, string stderr) = await rabbit.ServersAsync("up");
        if (exit != 0)
        {
            await rabbit.DisposeAsync();
            throw new InvalidOperationException($"servers.sh up rabbitmq failed ({exit}): {stdout}{stderr}");
        }

        return rabbit;
    }

    /// <summary>Runs <paramref name="script"/> of deploy/ from the repository root with the API of this server.</summary>
    public Task<(int Exit, string Stdout, string Stderr)> RunScriptAsync(string script, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        ProcessStartInfo start = Script(script, arguments);
        start.Environment["ARTGRID_RABBITMQ_API"] = ManagementApi;
        foreach ((string key, string value) in environment)
        {
            start.Environment[key] = value;
        }

        return TestProcesses.RunAsync(start);
    }

    public async ValueTask DisposeAsync()
    {
        await ServersAsync("down");
        Directory.Delete(_state, recursive: true);
    }

    private Task<(int Exit, string Stdout, string Stderr)> ServersAsync(string command)
    {
        ProcessStartInfo start = Script("servers.sh", command, "rabbitmq");
        start.Environment["ARTGRID_STATE_DIR"] = Path.Combine(_state, "servers");
        start.Environment["ARTGRID_AMQP_PORT"] = AmqpPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["ARTGRID_REDIS_PORT"] = (TestServers.RedisPort + AmqpPort - TestServers.AmqpPort).ToString(CultureInfo.InvariantCulture);
        start.Environment["ARTGRID_RABBITMQ_MANAGEMENT_PORT"] = ManagementPort.ToString(CultureInfo.InvariantCulture);
        start.Environment.Remove("ARTGRID_RABBITMQ_NODE");
        start.Environment.Remove("ARTGRID_RABBITMQ_PROMETHEUS_PORT");
        return TestProcesses.RunAsync(start);
    }

    private static ProcessStartInfo Script(string name, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestAssets.RepositoryRoot,
        };
        start.ArgumentList.Add(Path.Combine(TestAssets.RepositoryRoot, "deploy", name));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }
}
