using System.Diagnostics;
using System.Globalization;

namespace ArtGrid.Tests.Cluster;

/// <summary>Running the tests' commands to their end, and stopping their server processes as an orchestrator does.</summary>
public static class TestProcesses
{
    /// <summary>A process's children now (a host's decode workers), from /proc.</summary>
    public static IReadOnlyList<int> ChildrenOf(int pid) =>
        [.. Directory.EnumerateDirectories($"/proc/{pid}/task")
            .Select(task => Path.Combine(task, "children"))
            .Where(File.Exists)
            .SelectMany(file => File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(child => int.Parse(child, CultureInfo.InvariantCulture))
            .Distinct()];

    /// <summary>A process's user plus system time so far, from /proc (fields 14 and 15 of its stat, in 1/100 s).</summary>
    public static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>Runs <paramref name="start"/> (its output redirected) to its end: its exit code, stdout and stderr.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(ProcessStartInfo start)
    {
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// SIGTERM to <paramref name="process"/> (docker stop, a pod's termination), then waits for its exit and returns its
    /// exit code and the time from the signal to the exit. Still running after <paramref name="limit"/>, it is killed and
    /// a <see cref="TimeoutException"/> names <paramref name="who"/> with <paramref name="log"/>.
    /// </summary>
    public static async Task<(int ExitCode, TimeSpan Elapsed)> TerminateAsync(Process process, TimeSpan limit, string who, Func<string> log)
    {
        var clock = Stopwatch.StartNew();
        if (!process.HasExited)
        {
            using Process kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }

        using var wait = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{who} was still running {clock.Elapsed.TotalSeconds:0} s after SIGTERM; killed. Its log:\n{log()}");
        }

        return (process.ExitCode, clock.Elapsed);
    }
}
