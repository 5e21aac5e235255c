using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ArtGrid.Inference.Devices;

/// <summary>One NVIDIA GPU as <c>nvidia-smi</c> reports it.</summary>
/// <param name="Index">The CUDA device index ("cuda:N").</param>
/// <param name="Name">The product name, e.g. "NVIDIA A100-SXM4-80GB".</param>
/// <param name="MemoryMib">Total memory in MiB; null when nvidia-smi does not know it.</param>
/// <param name="Driver">The driver version.</param>
public sealed record GpuInfo(int Index, string Name, long? MemoryMib, string Driver);

/// <summary>
/// What this node offers for "cuda:N" devices: the GPUs <c>nvidia-smi</c> lists, and whether this build's ONNX Runtime
/// has the CUDA provider. It never throws: a node without nvidia-smi, or whose nvidia-smi fails or hangs, has no GPUs.
/// </summary>
public sealed partial class GpuProbe(ILogger<GpuProbe>? logger = null)
{
    /// <summary>How long nvidia-smi may take: it can hang on a node whose driver is wedged, and a probe must not.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    internal const string QueryArguments = "--query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits";

    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    /// <summary>Whether this build's ONNX Runtime has the CUDA execution provider (see <see cref="OnnxModelSession.HasCudaProvider"/>).</summary>
    public static bool CudaProviderAvailable => OnnxModelSession.HasCudaProvider;

    /// <summary>The GPUs nvidia-smi lists, in index order; empty when there is no nvidia-smi or it fails.</summary>
    public IReadOnlyList<GpuInfo> List() => List(out _);

    /// <summary>The GPUs nvidia-smi lists; <paramref name="whyNone"/> says why the list is empty, when it is.</summary>
    public IReadOnlyList<GpuInfo> List(out string? whyNone)
    {
        (string? output, whyNone) = Run("nvidia-smi", QueryArguments, Timeout);
        if (output is null)
        {
            LogNoGpus(_logger, whyNone!);
            return [];
        }

        IReadOnlyList<GpuInfo> gpus = ParseCsv(output);
        whyNone = gpus.Count == 0 ? "nvidia-smi listed no GPUs" : null;
        return gpus;
    }

    /// <summary>
    /// Rows of <c>nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits</c>.
    /// The name is everything between the first and the last two fields, so a name with a comma stays whole; rows
    /// that do not start with an index are skipped, and a memory of "[N/A]" is null.
    /// </summary>
    internal static IReadOnlyList<GpuInfo> ParseCsv(string text)
    {
        var gpus = new List<GpuInfo>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] fields = line.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length < 4 || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                continue;
            }

            string name = string.Join(", ", fields[1..^2]);
            long? memory = long.TryParse(fields[^2], NumberStyles.None, CultureInfo.InvariantCulture, out long mib) ? mib : null;
            gpus.Add(new GpuInfo(index, name, memory, fields[^1]));
        }

        gpus.Sort((a, b) => a.Index.CompareTo(b.Index));
        return gpus;
    }

    /// <summary>Runs a program for its stdout: (stdout, null) when it exits 0 in time, else (null, why).</summary>
    internal static (string? Output, string? WhyNot) Run(string fileName, string arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception)
        {
            // Its message names the working folder, which says nothing about why: the program is not on PATH.
            return (null, $"{fileName} not found on PATH");
        }

        if (process is null)
        {
            return (null, $"{fileName} did not start");
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // exited between the wait and the kill
                }

                return (null, $"{fileName} did not answer within {timeout.TotalSeconds:0.#} s and was stopped");
            }

            // The streams close when the process exits; their last bytes may still be in flight, and on a loaded machine
            // that can take more than a second. Only a program that left a child holding them open runs out this wait.
            if (!Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10)))
            {
                return (null, $"{fileName} exited but its output did not close");
            }

            return process.ExitCode == 0
                ? (stdout.Result, null)
                : (null, $"{fileName} exited with {process.ExitCode}: {FirstLine(stderr.Result) ?? FirstLine(stdout.Result) ?? "no message"}");
        }
    }

    private static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();

    [LoggerMessage(EventId = 2301, Level = LogLevel.Debug, Message = "No GPUs from nvidia-smi: {Reason}")]
    private static partial void LogNoGpus(ILogger logger, string reason);
}
