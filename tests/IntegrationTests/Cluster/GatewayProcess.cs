using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// The REST gateway as a real process in front of a fixture's cluster: artgrid-gateway.dll from its own output folder,
/// on a free port, with the cluster's connection strings and ids. Its whole log is kept.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private GatewayProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public string Log => string.Join('\n', _log);

    /// <summary>Starts the gateway and returns once it answers <c>/healthz</c>.</summary>
    public static async Task<GatewayProcess> StartAsync(ServersFixture cluster)
    {
        string folder = SiloProcess.ProjectOutput("Gateway");
        int port = FreePort();
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
        foreach ((string key, string value) in cluster.SiloSettings.Where(kv => kv.Key.StartsWith("ArtGrid__Silo__", StringComparison.Ordinal) || kv.Key.StartsWith("ArtGrid__Bus__", StringComparison.Ordinal)))
        {
            start.Environment[key] = value;
        }

        var gateway = new GatewayProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"));
        gateway._process.OutputDataReceived += (_, e) => gateway._log.Enqueue(e.Data ?? "");
        gateway._process.ErrorDataReceived += (_, e) => gateway._log.Enqueue(e.Data ?? "");
        gateway._process.BeginOutputReadLine();
        gateway._process.BeginErrorReadLine();
        try
        {
            await gateway.WaitHealthyAsync();
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }

        return gateway;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private async Task WaitHealthyAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            Assert.False(_process.HasExited, "the gateway exited:\n" + Log);
            try
            {
                if ((await Http.GetAsync("/healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(200);
        }

        Assert.Fail("the gateway did not answer /healthz:\n" + Log);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
