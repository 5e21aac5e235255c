using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace ArtGrid.Bench;

/// <summary>
/// The silos and the gateway a bench runs against, as processes from their build outputs, on the Redis and RabbitMQ it
/// is pointed at, with this run's own cluster id, service id and queue, as the integration tests configure them: one ONNX
/// Runtime thread per silo (they share the machine's cores), and records, claim checks and cached scores that expire
/// within the hour, so that runs leave nothing lasting in a developer's Redis. Disposing stops what was started and
/// deletes the run's queues.
/// </summary>
internal sealed class BenchCluster(string runId, string redis, Uri amqp) : IAsyncDisposable
{
    private const string ReadyLine = "ArtGrid silo ready";
    private static readonly TimeSpan SiloStartTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan GatewayStartTimeout = TimeSpan.FromMinutes(2);

    private readonly List<ChildProcess> _silos = [];
    private HttpClient? _http;

    public string RunId => runId;

    public string QueueName => $"score-images-{runId}";

    public IReadOnlyList<ChildProcess> Silos => _silos;

    public ChildProcess? Gateway { get; private set; }

    /// <summary>A client of the gateway that sends the key it was started with.</summary>
    public HttpClient Http => _http ?? throw new InvalidOperationException("The gateway has not started.");

    /// <summary>The silo's and the gateway's programs in this build's outputs; a setup error when they are not built.</summary>
    public static (string SiloDll, string GatewayDll) BuildOutputs()
    {
        string root = PhotoMix.RepositoryRoot();
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string siloDll = Path.Combine(root, "src", "Silo", "bin", configuration, "net10.0", "artgrid-silo.dll");
        string gatewayDll = Path.Combine(root, "src", "Gateway", "bin", configuration, "net10.0", "artgrid-gateway.dll");
        foreach (string dll in new[] { siloDll, gatewayDll })
        {
            if (!File.Exists(dll))
            {
                throw new SetupException($"{dll} is missing: build first (dotnet build ArtGrid.sln -c {configuration}).");
            }
        }

        return (siloDll, gatewayDll);
    }

    /// <summary>A setup error, saying how to start them, unless Redis and RabbitMQ listen where the bench points.</summary>
    public static async Task CheckServersAsync(string redis, Uri amqp)
    {
        string redisHost = redis.Split(',')[0];
        int colon = redisHost.LastIndexOf(':');
        (string host, int port) = colon > 0 && int.TryParse(redisHost[(colon + 1)..], CultureInfo.InvariantCulture, out int p)
            ? (redisHost[..colon], p)
            : (redisHost, 6379);
        foreach ((string name, string h, int pt) in new[] { ("Redis", host, port), ("RabbitMQ", amqp.Host, amqp.IsDefaultPort ? 5672 : amqp.Port) })
        {
            if (!await ChildProcess.AcceptsAsync(h, pt))
            {
                throw new SetupException(
                    $"{name} is not listening on {h}:{pt}. Start the servers (ARTGRID_REDIS_PORT=6390 ARTGRID_AMQP_PORT=5690 deploy/servers.sh up), " +
                    "pass --redis and --amqp, or run bench/gateway-load.sh, which starts servers of its own.");
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="count"/> silos from <paramref name="siloDll"/>, one after the other, each waited for until
    /// ready; <paramref name="settings"/> (environment variables) are added to, or replace, the bench defaults.
    /// </summary>
    public async Task StartSilosAsync(string siloDll, int count, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? settings = null)
    {
        int first = _silos.Count + 1;
        for (int i = first; i < first + count; i++)
        {
            string name = $"silo-{i}";
            Progress.Say($"starting {name}");
            var environment = new Dictionary<string, string>(ClusterSettings())
            {
                ["ArtGrid__Silo__Name"] = name,
                ["ArtGrid__Silo__SiloPort"] = ChildProcess.Text(ChildProcess.FreePort()),
                ["ArtGrid__Silo__GatewayPort"] = ChildProcess.Text(ChildProcess.FreePort()),
                ["ArtGrid__Silo__HttpPort"] = ChildProcess.Text(ChildProcess.FreePort()),
                ["ArtGrid__Inference__IntraOpThreads"] = "1",
                ["ArtGrid__Cache__TimeToLiveHours"] = "1",
            };
            foreach ((string key, string value) in settings ?? new Dictionary<string, string>())
            {
                environment[key] = value;
            }

            ChildProcess silo = ChildProcess.Start(name, siloDll, [], environment, ReadyLine);
            _silos.Add(silo);
            await silo.WaitForMarkerAsync(SiloStartTimeout, cancellationToken);
        }
    }

    /// <summary>
    /// Starts the gateway from <paramref name="gatewayDll"/> on a free loopback port with one API key (<paramref name="key"/>,
    /// named <paramref name="keyName"/>, holding <paramref name="scopes"/>; the per-key rate limit out of the way: a bench
    /// measures capacity) and <paramref name="settings"/>, and returns its address once <paramref name="healthPath"/>
    /// answers 200. <see cref="Http"/> then sends the key, with <paramref name="requestTimeout"/>.
    /// </summary>
    public async Task<Uri> StartGatewayAsync(
        string gatewayDll, string key, string keyName, IReadOnlyList<string> scopes, IReadOnlyDictionary<string, string> settings,
        string healthPath, TimeSpan requestTimeout, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>(ClusterSettings())
        {
            ["ArtGrid__Gateway__ApiKeys__0__Name"] = keyName,
            ["ArtGrid__Gateway__ApiKeys__0__Hash"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))),
            ["ArtGrid__Gateway__RateLimit__Permits"] = "1000000",
        };
        for (int s = 0; s < scopes.Count; s++)
        {
            environment[$"ArtGrid__Gateway__ApiKeys__0__Scopes__{s}"] = scopes[s];
        }

        foreach ((string name, string value) in settings)
        {
            environment[name] = value;
        }

        int port = ChildProcess.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        Progress.Say("starting the gateway");
        ChildProcess gateway = ChildProcess.Start("gateway", gatewayDll, ["--urls", $"http://127.0.0.1:{port}"], environment);
        Gateway = gateway;
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = address, Timeout = requestTimeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < GatewayStartTimeout)
        {
            if (gateway.HasExited)
            {
                throw new SetupException($"the gateway exited. The end of its log:\n{gateway.Tail(60)}");
            }

            try
            {
                using HttpResponseMessage answer = await _http.GetAsync(healthPath, cancellationToken);
                if (answer.IsSuccessStatusCode)
                {
                    return address;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new SetupException($"the gateway did not answer {healthPath} within {GatewayStartTimeout.TotalSeconds:0} s. The end of its log:\n{gateway.Tail(60)}");
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        foreach (ChildProcess silo in _silos)
        {
            if (silo.HasExited)
            {
                Progress.Say($"{silo.Name} had exited before the end; the end of its log:\n{silo.Tail(40)}");
            }

            await silo.DisposeAsync();
        }

        if (_silos.Count > 0)
        {
            await Try("delete this run's queues", async () =>
            {
                var factory = new RabbitMQ.Client.ConnectionFactory { Uri = amqp };
                await using RabbitMQ.Client.IConnection connection = await factory.CreateConnectionAsync();
                foreach (string queue in new[] { QueueName, QueueName + "_error" })
                {
                    await using RabbitMQ.Client.IChannel channel = await connection.CreateChannelAsync();
                    await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
                }
            });
        }
    }

    /// <summary>Runs a clean-up step; a failure is said, not thrown, so that the steps after it still run.</summary>
    public static async Task Try(string what, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception ex)
        {
            Progress.Say($"could not {what}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private Dictionary<string, string> ClusterSettings() => new()
    {
        ["ConnectionStrings__Redis"] = redis,
        ["ConnectionStrings__RabbitMq"] = amqp.ToString(),
        ["ArtGrid__Silo__ClusterId"] = runId,
        ["ArtGrid__Silo__ServiceId"] = runId,
        ["ArtGrid__Bus__QueueName"] = QueueName,
        ["ArtGrid__Bus__JobRecordHours"] = "1",
        ["ArtGrid__Bus__MessageDataHours"] = "1",
        ["DOTNET_ENVIRONMENT"] = "Production",
    };
}
