using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A real silo process in cluster mode, run as it is deployed: artgrid-silo.dll from the silo's own output folder (its
/// appsettings.json and model repository), built with the tests' configuration, its operations listener on a free
/// port. It has started once <c>/health/ready</c> answers 200 (or, when asked, <c>/health/live</c>), as a deployment
/// waits for it. Its whole log is kept.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private SiloProcess(string name, Process process, Uri operations)
    {
        Name = name;
        _process = process;
        Http = new HttpClient { BaseAddress = operations, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Name { get; }

    /// <summary>The silo's operations listener: <c>/health/live</c>, <c>/health/ready</c>, <c>/metrics</c>.</summary>
    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    public string Log => string.Join('\n', _log);

    /// <summary>
    /// Starts the silo and returns once <paramref name="waitFor"/> (<c>/health/ready</c> unless told otherwise) answers
    /// 200; throws with its log when it exits first or does not get there within two minutes. It runs from
    /// <paramref name="folder"/> when given (a published silo), else from src/Silo's build output.
    /// </summary>
    public static async Task<SiloProcess> StartAsync(string name, IReadOnlyDictionary<string, string> settings, string waitFor = "/health/ready", string? folder = null)
    {
        folder ??= ProjectOutput("Silo");
        string httpPort = TestPorts.Free().ToString(CultureInfo.InvariantCulture);
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
        start.Environment["ArtGrid__Silo__SiloPort"] = TestPorts.Free().ToString(CultureInfo.InvariantCulture);
        start.Environment["ArtGrid__Silo__GatewayPort"] = TestPorts.Free().ToString(CultureInfo.InvariantCulture);
        start.Environment["ArtGrid__Silo__HttpPort"] = httpPort;
        foreach ((string key, string value) in settings)
        {
            start.Environment[key] = value;
        }

        var silo = new SiloProcess(name, Process.Start(start)!, new Uri($"http://127.0.0.1:{httpPort}"));
        silo._process.OutputDataReceived += (_, e) => silo.Take(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.Take(e.Data);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();
        string? failure = await silo.WaitForAsync(waitFor);
        if (failure is not null)
        {
            await silo.DisposeAsync();
            throw new InvalidOperationException($"Silo {name}: {waitFor} did not answer 200 ({failure}). Its log:\n{silo.Log}");
        }

        return silo;
    }

    /// <summary>Polls <paramref name="path"/> until it answers 200: null then, else why not. Waiting, not timing.</summary>
    private Task<string?> WaitForAsync(string path) =>
        HttpPolling.UntilOkAsync(Http, new Uri(path, UriKind.Relative), StartTimeout, () => _process.HasExited ? $"it exited with code {_process.ExitCode}" : null);

    /// <summary>
    /// SIGTERM, as an orchestrator stops a silo (docker stop, a pod's termination): the silo drains and leaves. Waits for
    /// the process to exit (killing it past <paramref name="limit"/>, three minutes unless told) and returns its exit code
    /// and the time from the signal to the exit.
    /// </summary>
    public Task<(int ExitCode, TimeSpan Elapsed)> StopAsync(TimeSpan? limit = null) =>
        TestProcesses.TerminateAsync(_process, limit ?? TimeSpan.FromMinutes(3), $"Silo {Name}", () => Log);

    /// <summary>The silo's child processes now (its decode workers), from /proc.</summary>
    public IReadOnlyList<int> ChildProcessIds() => TestProcesses.ChildrenOf(_process.Id);

    /// <summary>Whether a process runs (exists and is not a zombie waiting to be reaped).</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() is not ('Z' or 'X');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
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
        Http.Dispose();
    }

    private void Take(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
    }

    /// <summary>The output folder of src/{project}, built with the same configuration as these tests.</summary>
    public static string ProjectOutput(string project)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        return Path.Combine(TestAssets.RepositoryRoot, "src", project, "bin", configuration, "net10.0");
    }
}
