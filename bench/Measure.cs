using System.Diagnostics;
using System.Globalization;

namespace ArtGrid.Bench;

/// <summary>
/// Rounds of measurements taken in one run. Every round takes each measurement once, the order rotating from round to
/// round (A B, B A, ...), so that drift and a noisy neighbour weigh on every side alike; ratios are taken within a round
/// (paired) and their median reported, with the range of the rounds beside it.
/// </summary>
internal static class Rounds
{
    /// <summary>Runs <paramref name="rounds"/> rounds; the result is values[measurement][round].</summary>
    public static async Task<double[][]> RunAsync(int rounds, IReadOnlyList<Func<Task<double>>> measurements, Action<int, double[]>? onRound = null)
    {
        var values = new double[measurements.Count][];
        for (int m = 0; m < values.Length; m++)
        {
            values[m] = new double[rounds];
        }

        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < measurements.Count; k++)
            {
                int m = (round + k) % measurements.Count;
                values[m][round] = await measurements[m]();
            }

            onRound?.Invoke(round, [.. values.Select(v => v[round])]);
        }

        return values;
    }
}

/// <summary>A median with the range it came from.</summary>
internal readonly record struct Spread(double Median, double Min, double Max)
{
    public static Spread Of(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Where(double.IsFinite).Order()];
        return sorted.Length == 0 ? new Spread(double.NaN, double.NaN, double.NaN) : new Spread(Stats.Median(sorted), sorted[0], sorted[^1]);
    }

    /// <summary>The paired ratios numerator[i] / denominator[i], as a spread.</summary>
    public static Spread OfRatios(IReadOnlyList<double> numerator, IReadOnlyList<double> denominator) =>
        Of(numerator.Zip(denominator, (a, b) => a / b));

    public override string ToString() => ToString("0.00");

    public string ToString(string format) =>
        $"{Median.ToString(format, CultureInfo.InvariantCulture)} [{Min.ToString(format, CultureInfo.InvariantCulture)}-{Max.ToString(format, CultureInfo.InvariantCulture)}]";
}

/// <summary>The bench commands' options: "--name value".</summary>
internal static class CommandLine
{
    public static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>
    /// Every <c>--silo-setting NAME=VALUE</c>: environment variables for each silo a bench starts, over its defaults
    /// (an ArtGrid setting, ArtGrid__Section__Key, or the runtime's, DOTNET_gcServer=0), to compare settings on one build.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SiloSettings(string[] args)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] != "--silo-setting")
            {
                continue;
            }

            string text = i + 1 < args.Length ? args[i + 1] : "";
            int equals = text.IndexOf('=', StringComparison.Ordinal);
            if (equals < 1)
            {
                throw new FormatException($"--silo-setting takes NAME=VALUE, not '{text}'");
            }

            settings[text[..equals]] = text[(equals + 1)..];
        }

        return settings;
    }

    /// <summary>A whole number of at least 1, or <paramref name="fallback"/> when the option is absent.</summary>
    public static int PositiveInt(string[] args, string name, int fallback)
    {
        string? text = Option(args, name);
        return text is null
            ? fallback
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= 1
                ? value
                : throw new FormatException($"{name} must be a whole number of at least 1, not '{text}'");
    }

    /// <summary>
    /// <c>--redis</c> and <c>--amqp</c>, by default 127.0.0.1 on $ARTGRID_REDIS_PORT (6390) and $ARTGRID_AMQP_PORT (5690):
    /// the test servers.
    /// </summary>
    public static (string Redis, Uri Amqp) Servers(string[] args)
    {
        string redis = Option(args, "--redis") ?? $"127.0.0.1:{EnvironmentPort("ARTGRID_REDIS_PORT", 6390)}";
        string amqp = Option(args, "--amqp") ?? $"amqp://guest:guest@127.0.0.1:{EnvironmentPort("ARTGRID_AMQP_PORT", 5690)}/";
        return Uri.TryCreate(amqp, UriKind.Absolute, out Uri? amqpUri) && amqpUri.Scheme is "amqp" or "amqps"
            ? (redis, amqpUri)
            : throw new FormatException($"--amqp must be an amqp:// URI, not '{amqp}'");
    }

    private static int EnvironmentPort(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out int port) ? port : fallback;
}

internal static class Stats
{
    public static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>The nearest-rank percentile (0 to 100) of unsorted values.</summary>
    public static double Percentile(IEnumerable<double> values, double percent)
    {
        double[] sorted = [.. values.Order()];
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        int rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Seconds(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    public static async Task<double> SecondsAsync(Func<Task> action)
    {
        long start = Stopwatch.GetTimestamp();
        await action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}

/// <summary>Progress on stderr, stamped with the time since the run started.</summary>
internal static class Progress
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static void Say(string message) => Console.Error.WriteLine($"[{Clock.Elapsed:mm\\:ss}] {message}");
}

/// <summary>
/// CPU time, for single-threaded work on a machine that others share: unlike wall time, it does not grow while the
/// work waits for a core. This process's own (every thread, the garbage collector's included), and that of its child
/// processes that have exited (getrusage RUSAGE_CHILDREN), so that a tool run as a process is charged in full.
/// </summary>
internal static class CpuTime
{
    public static TimeSpan Self => Environment.CpuUsage.TotalTime;

    public static TimeSpan ExitedChildren
    {
        get
        {
            if (!OperatingSystem.IsLinux() || GetRusage(-1, out RUsage usage) != 0)
            {
                return TimeSpan.Zero;
            }

            return TimeSpan.FromTicks(((usage.UserSeconds + usage.SystemSeconds) * TimeSpan.TicksPerSecond) + ((usage.UserMicroseconds + usage.SystemMicroseconds) * 10));
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRusage(int who, out RUsage usage);

    // struct rusage on 64-bit Linux: two struct timevals, then fourteen longs.
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss, Ixrss, Idrss, Isrss, Minflt, Majflt, Nswap, Inblock, Oublock, Msgsnd, Msgrcv, Nsignals, Nvcsw, Nivcsw;
    }
}

/// <summary>Fixed-width tables on stdout.</summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public Table Row(params object[] cells)
    {
        _rows.Add([.. cells.Select(Format)]);
        return this;
    }

    public void Print(string title)
    {
        int[] widths = [.. headers.Select((h, i) => Math.Max(h.Length, _rows.Select(r => i < r.Length ? r[i].Length : 0).DefaultIfEmpty(0).Max()))];
        Console.WriteLine();
        Console.WriteLine(title);
        Console.WriteLine(Line(headers, widths));
        Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (string[] row in _rows)
        {
            Console.WriteLine(Line(row, widths));
        }
    }

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();

    private static string Format(object cell) => cell switch
    {
        double d when !double.IsFinite(d) => "n/a",
        double d => d.ToString(Math.Abs(d) >= 100 ? "0.0" : "0.00", CultureInfo.InvariantCulture),
        Spread s when !double.IsFinite(s.Median) => "n/a",
        Spread s => s.ToString(Math.Abs(s.Median) >= 100 ? "0.0" : s.Median < 10 ? "0.000" : "0.00"),
        null => "",
        _ => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "",
    };
}
