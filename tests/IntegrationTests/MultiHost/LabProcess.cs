using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace ArtGrid.Tests.MultiHost;

/// <summary>
/// A .NET program of ArtGrid run on a lab host (<see cref="LabHost.Command"/>), from its own output folder, with its
/// whole log kept.
/// </summary>
public sealed class LabProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private LabProcess(string name, LabHost host, Process process)
    {
        Name = name;
        Host = host;
        _process = process;
    }

    public string Name { get; }

    public LabHost Host { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    public string Log => string.Join('\n', _log);

    /// <summary>The last <paramref name="lines"/> lines of the log, headed by the process's name.</summary>
    public string Tail(int lines = 30) => $"--- {Name}{(HasExited ? " (exited)" : "")} ---\n" + string.Join('\n', _log.TakeLast(lines));

    public static LabProcess Start(string name, LabHost host, string folder, string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        ProcessStartInfo start = host.Command("dotnet", [Path.Combine(folder, program), .. arguments], folder);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach ((string key, string value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new LabProcess(name, host, Process.Start(start)!);
        process._process.OutputDataReceived += (_, e) => process.Take(e.Data);
        process._process.ErrorDataReceived += (_, e) => process.Take(e.Data);
        process._process.BeginOutputReadLine();
        process._process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Polls <paramref name="url"/> until it answers 200: null then, else why not (it exited, or the time ran out).</summary>
    public Task<string?> WaitForAsync(HttpClient http, Uri url, TimeSpan timeout) =>
        Cluster.HttpPolling.UntilOkAsync(http, url, timeout, () => _process.HasExited ? $"{Name} exited with code {_process.ExitCode}" : null);

    /// <summary>
    /// SIGTERM, as a host's init or Kubernetes sends it, then waits for the exit: its code and the time it took. Past
    /// <paramref name="grace"/>, SIGKILL, as they do, and an exception.
    /// </summary>
    public Task<(int ExitCode, TimeSpan Elapsed)> TerminateAsync(TimeSpan grace) =>
        Cluster.TestProcesses.TerminateAsync(_process, grace, Name, () => Tail(60));

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
        if (line is not null)
        {
            _log.Enqueue(line);
        }
    }
}
