using System.Diagnostics;
using System.Globalization;

namespace ArtGrid.Tests;

/// <summary>
/// <c>artgrid-bench</c> as a process, from its own build output, with <paramref name="environment"/> added to its
/// environment. Past <c>limit</c> (8 minutes by default) it gets SIGTERM, which the bench answers by stopping what it
/// started, then a kill, and the test fails with both outputs.
/// </summary>
public static class BenchProcess
{
    public static Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args) => RunAsync(args, null);

    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(
        IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment, TimeSpan? limit = null)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string folder = Path.Combine(TestAssets.RepositoryRoot, "bench", "bin", configuration, "net10.0");
        var start = new ProcessStartInfo(DotnetPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        start.ArgumentList.Add(Path.Combine(folder, "artgrid-bench.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        TimeSpan allowed = limit ?? TimeSpan.FromMinutes(8);
        using var timeout = new CancellationTokenSource(allowed);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }

            Assert.Fail($"the bench ran over {allowed.TotalMinutes:0} minutes:\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The dotnet host by its full path, so that a test may hand the bench a PATH without it.</summary>
    public static string DotnetPath()
    {
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        string[] candidates = [.. (root is null ? [] : new[] { Path.Combine(root, "dotnet") }),
            .. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "dotnet"))];
        return candidates.FirstOrDefault(File.Exists) ?? "dotnet";
    }
}
