using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ArtGrid.Bench;

/// <summary>
/// A server program (a silo, the gateway) run as a process from its build output, as it is deployed: `dotnet X.dll` in
/// its own folder, configured through its environment. The end of its log is kept for failure messages. Every live one
/// is also registered so that <see cref="KillAll"/> can end them when the bench process itself is going away.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const int KeptLines = 2000;
    private static readonly ConcurrentDictionary<int, Process> Live = new();

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly string? _marker;
    private readonly TaskCompletionSource _marked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(string name, Process process, string? marker)
    {
        Name = name;
        _process = process;
        _marker = marker;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The process id (for its CPU time in /proc).</summary>
    public int Id => _process.Id;

    /// <summary>The last lines of its stdout and stderr, interleaved as they came.</summary>
    public IReadOnlyList<string> Log => [.. _log];

    /// <summary>
    /// Starts <paramref name="dll"/> (with <paramref name="arguments"/>) in its own folder with <paramref name="environment"/>
    /// added; <see cref="WaitForMarkerAsync"/> then waits for a log line containing <paramref name="marker"/>.
    /// </summary>
    public static ChildProcess Start(string name, string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string? marker = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach ((string key, string value) in environment)
        {
            start.Environment[key] = value;
        }

        var child = new ChildProcess(name, Process.Start(start) ?? throw new InvalidOperationException($"could not start {dll}"), marker);
        Live[child._process.Id] = child._process;
        child._process.OutputDataReceived += (_, e) => child.Take(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Take(e.Data);
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for the marker line; throws with the log when the process exits first or the time runs out.</summary>
    public async Task WaitForMarkerAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task exited = _process.WaitForExitAsync(cancellationToken);
        Task first = await Task.WhenAny(_marked.Task, exited, Task.Delay(timeout, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
        if (first != _marked.Task)
        {
            throw new SetupException($"{Name} did not log \"{_marker}\" ({(first == exited ? "it exited" : $"not within {timeout.TotalSeconds:0} s")}). The end of its log:\n{Tail(60)}");
        }
    }

    public string Tail(int lines) => string.Join('\n', _log.TakeLast(lines));

    /// <summary>Kills every child still running (the whole tree: a silo's decode workers too), without waiting.</summary>
    public static void KillAll()
    {
        foreach (Process process in Live.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // already gone
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // gone already, or not reaped in time: nothing more to do here
        }

        Live.TryRemove(_process.Id, out _);
        _process.Dispose();
    }

    /// <summary>A TCP port that nothing listened on a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether something accepts TCP connections on host:port within two seconds.</summary>
    public static async Task<bool> AcceptsAsync(string host, int port)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(host, port, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    public static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private void Take(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > KeptLines && _log.TryDequeue(out _))
        {
        }

        if (_marker is not null && line.Contains(_marker, StringComparison.Ordinal))
        {
            _marked.TrySetResult();
        }
    }
}

/// <summary>The bench could not set up what it measures (servers, build outputs, processes): exit code 3.</summary>
internal sealed class SetupException(string message) : Exception(message);
