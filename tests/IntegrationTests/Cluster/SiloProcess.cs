using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A real silo process in cluster mode, run as it is deployed: artgrid-silo.dll from the silo's own output folder (its
/// appsettings.json and model repository), built with the tests' configuration. Its whole log is kept.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SiloProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public string Log => string.Join('\n', _log);

    public static async Task<SiloProcess> StartAsync(string name, IReadOnlyDictionary<string, string> settings)
    {
        string folder = ProjectOutput("Silo");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        start.ArgumentList.Add(Path.Combine(folder, "artgrid-silo.dll"));
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__Redis"] = TestServers.Redis;
        start.Environment["ConnectionStrings__RabbitMq"] = TestServers.RabbitMq.ToString();
        start.Environment["ArtGrid__Silo__Name"] = name;
        start.Environment["ArtGrid__Silo__SiloPort"] = FreePort();
        start.Environment["ArtGrid__Silo__GatewayPort"] = FreePort();
        foreach ((string key, string value) in settings)
        {
            start.Environment[key] = value;
        }

        var silo = new SiloProcess(name, Process.Start(start)!);
        silo._process.OutputDataReceived += (_, e) => silo.Take(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.Take(e.Data);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();
        Task exited = silo._process.WaitForExitAsync();
        Task first = await Task.WhenAny(silo._ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(120)));
        if (first != silo._ready.Task)
        {
            silo.Kill();
            throw new InvalidOperationException($"Silo {name} did not report ready ({(first == exited ? "it exited" : "timed out")}). Its log:\n{silo.Log}");
        }

        return silo;
    }

    /// <summary>SIGKILL: no shutdown, no goodbye to the cluster or the broker (what kill -9 does).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Take(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        if (line.Contains("ArtGrid silo ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    /// <summary>The output folder of src/{project}, built with the same configuration as these tests.</summary>
    public static string ProjectOutput(string project)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        return Path.Combine(TestAssets.RepositoryRoot, "src", project, "bin", configuration, "net10.0");
    }

    private static string FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
    }
}
