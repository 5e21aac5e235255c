using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ArtGrid.Imaging.Sandbox;

/// <summary>One running worker process: its pipes, its memory reading, and how to stop it.</summary>
internal sealed partial class DecodeWorkerProcess : IDisposable
{
    private static readonly long PageSize = Environment.SystemPageSize;
    private readonly Process _process;
    private WorkerMemoryCgroup? _cgroup;

    private DecodeWorkerProcess(Process process)
    {
        _process = process;
        ProcessId = process.Id;
    }

    /// <summary>Kept apart from the Process object, so that it can still be read after the worker was disposed.</summary>
    public int ProcessId { get; }

    public bool HasExited => _process.HasExited;

    public int ImagesDecoded { get; set; }

    /// <summary>Resident memory once started and warmed up: the runtime, the decoders and their JIT-compiled code.</summary>
    public long BaselineBytes { get; private set; }

    /// <summary>What the worker said of its confinement when ready (<see cref="WorkerConfinement"/>).</summary>
    public string Confinement { get; private set; } = "";

    public Stream Input => _process.StandardInput.BaseStream;

    public Stream Output => _process.StandardOutput.BaseStream;

    /// <summary>Starts a worker and waits for its ready message.</summary>
    public static async Task<DecodeWorkerProcess> StartAsync(DecodeSandboxOptions options, PreprocessingOptions preprocessing, ILogger logger, CancellationToken cancellationToken)
    {
        string worker = ResolveWorkerPath(options);
        var start = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (worker.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            start.FileName = DotnetHost();
            start.ArgumentList.Add(worker);
        }
        else
        {
            start.FileName = worker;
        }

        // The host's preprocessing options as they are; the worker sets what is particular to a worker.
        start.ArgumentList.Add(DecodeWorkerLoop.OptionsArgument);
        start.ArgumentList.Add(JsonSerializer.Serialize(preprocessing));
        start.ArgumentList.Add(DecodeWorkerLoop.ConfinementArgument);
        start.ArgumentList.Add(options.Confinement.ToString());

        // A worker gets none of the host's secrets (connection strings, keys): only what the runtime and the native
        // decoders read from the environment.
        foreach (string name in start.Environment.Keys.Where(name => !KeptVariable(name)).ToList())
        {
            start.Environment.Remove(name);
        }

        // One worker per core: the workstation GC, whatever the host uses. Every image allocates a few large arrays;
        // with the default budgets almost every image set off a blocking gen2 collection, after which ImageSharp trims
        // its pools and the next image pays page faults again. A 64 MiB gen0 budget and arrays up to 32 MiB kept out
        // of the large object heap make those collections rare. The managed heap is capped at the memory ceiling, so
        // a runaway managed allocation fails inside the worker.
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_GCgen0size"] = "0x4000000";
        start.Environment["DOTNET_GCLOHThreshold"] = "0x2000000";
        start.Environment["DOTNET_GCHeapHardLimit"] = options.MemoryLimitBytes.ToString("x", CultureInfo.InvariantCulture);

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var started = new DecodeWorkerProcess(process);

        started._cgroup = WorkerMemoryCgroup.TryCreate(process.Id, options.MemoryCapBytes, out string memoryCap);
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                LogWorkerSaid(logger, started.ProcessId, e.Data);
            }
        };
        process.BeginErrorReadLine();

        try
        {
            byte[]? frame = await DecodeProtocol.ReadFrameAsync(started.Output, DecodeProtocol.MaxControlBytes, cancellationToken)
                .WaitAsync(options.StartupTimeout, cancellationToken);
            DecodeProtocol.WorkerMessage ready = frame is null
                ? throw new InvalidOperationException($"The decode worker exited before it was ready ({start.FileName} {worker}).")
                : DecodeProtocol.ReadWorkerMessage(frame);
            if (ready.Kind != DecodeMessage.Ready)
            {
                throw new InvalidDataException($"The decode worker's first message was {ready.Kind}, not Ready.");
            }

            started.BaselineBytes = started.ResidentBytes();
            started.Confinement = $"{ready.Confinement}; {memoryCap}";
            LogStarted(logger, started.ProcessId, ready.Decoder ?? "?", started.BaselineBytes / (1024 * 1024));
            return started;
        }
        catch
        {
            started.Kill();
            started.Dispose();
            throw;
        }
    }

    /// <summary>Resident memory now, from /proc on Linux; elsewhere the working set.</summary>
    public long ResidentBytes()
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                // statm: size resident shared ... in pages.
                string statm = File.ReadAllText($"/proc/{ProcessId}/statm");
                int first = statm.IndexOf(' ');
                int second = statm.IndexOf(' ', first + 1);
                return long.Parse(statm.AsSpan(first + 1, second - first - 1), CultureInfo.InvariantCulture) * PageSize;
            }

            _process.Refresh();
            return _process.WorkingSet64;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return 0; // Gone: the pipe will say so.
        }
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>How the process ended, for the per-image message: "exit code 3" or "signal 9".</summary>
    public async Task<string> ExitDescriptionAsync()
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            return "still running";
        }

        int code = _process.ExitCode;
        return !OperatingSystem.IsWindows() && code > 128 ? $"signal {code - 128}" : $"exit code {code}";
    }

    /// <summary>Asks the worker to leave (closing its input ends its loop) and kills it if it does not within a second.</summary>
    public async Task RetireAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            Kill();
        }
    }

    /// <summary>Whether the kernel ended the worker for passing its memory cgroup's cap.</summary>
    public bool KilledByMemoryCap => _cgroup?.OomKilled ?? false;

    public void Dispose()
    {
        if (_cgroup is not { } cgroup)
        {
            _process.Dispose();
            return;
        }

        // The cgroup can be removed once the worker has left it: after its exit, in the background.
        _ = Task.Run(async () =>
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
            {
                // Still running or never started: the removal is refused or moot, and the next start sweeps it.
            }

            cgroup.Remove();
            _process.Dispose();
        });
    }

    /// <summary>The variables a worker keeps from the host's environment.</summary>
    internal static bool KeptVariable(string name) =>
        name is "PATH" or "HOME" or "TMPDIR" or "TZ" or "LANG" or "LD_LIBRARY_PATH"
        || name.StartsWith("LC_", StringComparison.Ordinal)
        || name.StartsWith("DOTNET_", StringComparison.Ordinal);

    internal static string ResolveWorkerPath(DecodeSandboxOptions options)
    {
        string path = options.WorkerPath ?? Path.Combine(AppContext.BaseDirectory, "artgrid-decode-worker.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"The decode worker is not at {path}. Build the host project (it references src/DecodeWorker), set " +
                $"{DecodeSandboxOptions.SectionName}:WorkerPath, or set ArtGrid:Preprocessing:Isolation=InProcess for trusted input.", path);
    }

    // The dotnet host this process runs on: DOTNET_HOST_PATH when the SDK set it, else the host beside the runtime.
    private static string DotnetHost()
    {
        string executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } fromSdk && File.Exists(fromSdk))
        {
            return fromSdk;
        }

        if (Path.GetFileName(Environment.ProcessPath) == executable)
        {
            return Environment.ProcessPath!;
        }

        string besideRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", executable));
        return File.Exists(besideRuntime) ? besideRuntime : executable;
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Debug, Message = "Decode worker {ProcessId} started ({Decoder}, {ResidentMb} MiB resident)")]
    private static partial void LogStarted(ILogger logger, int processId, string decoder, long residentMb);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Decode worker {ProcessId}: {Line}")]
    private static partial void LogWorkerSaid(ILogger logger, int processId, string line);
}
