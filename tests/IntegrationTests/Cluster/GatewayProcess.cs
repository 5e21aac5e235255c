using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// The REST gateway as a real process in front of a fixture's cluster: artgrid-gateway.dll from its own output folder,
/// on a free port, with the cluster's connection strings and ids, and five API keys of its own (admin; score; read;
/// score and read; read and review), given to it as their hashes as a deployment would. Its whole log is kept.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly List<HttpClient> _clients = [];

    private GatewayProcess(Process process, Uri address, IReadOnlyDictionary<string, string> keys)
    {
        _process = process;
        Address = address;
        Keys = keys;
        Http = Client(keys["admin"]);
    }

    public Uri Address { get; }

    /// <summary>API keys by the scopes they hold: "admin", "score", "read", "score+read", "read+review".</summary>
    public IReadOnlyDictionary<string, string> Keys { get; }

    /// <summary>A client with the admin key (every scope).</summary>
    public HttpClient Http { get; }

    public string Log => string.Join('\n', _log);

    /// <summary>A client that sends <paramref name="key"/> as its bearer token (none when null).</summary>
    public HttpClient Client(string? key)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(2) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>
    /// Starts the gateway of the fixture's cluster (with <paramref name="settings"/> added to its environment) and returns
    /// once it answers <c>/health/ready</c> (or, unless <paramref name="waitReady"/>, <c>/health/live</c>).
    /// </summary>
    public static Task<GatewayProcess> StartAsync(ServersFixture cluster, IReadOnlyDictionary<string, string>? settings = null, bool waitReady = true) =>
        StartAsync(cluster.SiloSettings, settings, waitReady);

    /// <summary>
    /// Starts the gateway of the cluster whose silos run with <paramref name="cluster"/> (of which it takes the
    /// <c>ArtGrid__Silo__</c> ids and the <c>ArtGrid__Bus__</c> settings), from <paramref name="folder"/> when given (a published gateway), else from
    /// src/Gateway's build output.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(
        IEnumerable<KeyValuePair<string, string>> cluster, IReadOnlyDictionary<string, string>? settings, bool waitReady = true, string? folder = null)
    {
        folder ??= SiloProcess.ProjectOutput("Gateway");
        int port = TestPorts.Free();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        start.ArgumentList.Add(Path.Combine(folder, "artgrid-gateway.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.Environment["ConnectionStrings__Redis"] = TestServers.Redis;
        start.Environment["ConnectionStrings__RabbitMq"] = TestServers.RabbitMq.ToString();
        foreach ((string key, string value) in cluster.Where(kv => kv.Key.StartsWith("ArtGrid__Silo__", StringComparison.Ordinal) || kv.Key.StartsWith("ArtGrid__Bus__", StringComparison.Ordinal)))
        {
            start.Environment[key] = value;
        }

        var keys = new Dictionary<string, string>();
        string[][] scopes = [["admin"], ["score"], ["read"], ["score", "read"], ["read", "review"]];
        for (int i = 0; i < scopes.Length; i++)
        {
            string name = string.Join('+', scopes[i]);
            string key = $"ag_test_{name}_{Guid.NewGuid():N}";
            keys[name] = key;
            start.Environment[$"ArtGrid__Gateway__ApiKeys__{i}__Name"] = "test-" + name.Replace('+', '-');
            start.Environment[$"ArtGrid__Gateway__ApiKeys__{i}__Hash"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
            for (int s = 0; s < scopes[i].Length; s++)
            {
                start.Environment[$"ArtGrid__Gateway__ApiKeys__{i}__Scopes__{s}"] = scopes[i][s];
            }
        }

        foreach ((string key, string value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var gateway = new GatewayProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"), keys);
        gateway._process.OutputDataReceived += (_, e) => gateway._log.Enqueue(e.Data ?? "");
        gateway._process.ErrorDataReceived += (_, e) => gateway._log.Enqueue(e.Data ?? "");
        gateway._process.BeginOutputReadLine();
        gateway._process.BeginErrorReadLine();
        try
        {
            await gateway.WaitUpAsync(waitReady ? "/health/ready" : "/health/live");
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }

        return gateway;
    }

    /// <summary>
    /// SIGTERM, as an orchestrator stops the gateway; waits for the exit (three minutes at most, then SIGKILL and a
    /// <see cref="TimeoutException"/>) and returns the exit code and the time from the signal to the exit.
    /// </summary>
    public Task<(int ExitCode, TimeSpan Elapsed)> StopAsync() =>
        TestProcesses.TerminateAsync(_process, TimeSpan.FromMinutes(3), "The gateway", () => Log);

    /// <summary>SIGKILL: no graceful stop, the callers' connections are cut (a node lost, an OOM kill).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_clients)
        {
            _clients.ForEach(c => c.Dispose());
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private async Task WaitUpAsync(string path)
    {
        string? failure = await HttpPolling.UntilOkAsync(
            Http, new Uri(path, UriKind.Relative), TimeSpan.FromSeconds(90), () => _process.HasExited ? $"it exited with code {_process.ExitCode}" : null);
        Assert.True(failure is null, $"the gateway did not answer {path} ({failure}):\n" + Log);
    }
}
