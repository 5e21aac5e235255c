using System.Globalization;

namespace ArtGrid.Bench;

/// <summary>
/// Resident memory of this process and of every process below it (the decode workers), read from Linux's /proc, so
/// that memory the sandbox moves out of the host is still counted.
/// </summary>
internal static class ProcessTree
{
    public readonly record struct Rss(long HostBytes, long ChildBytes, int Children)
    {
        public long TotalBytes => HostBytes + ChildBytes;
    }

    public static bool Supported => File.Exists("/proc/self/status");

    public static Rss Read()
    {
        if (!Supported)
        {
            return new Rss(Environment.WorkingSet, 0, 0);
        }

        int self = Environment.ProcessId;
        long host = ResidentBytes(self);
        long children = 0;
        int count = 0;
        foreach (int pid in Descendants(self))
        {
            children += ResidentBytes(pid);
            count++;
        }

        return new Rss(host, children, count);
    }

    /// <summary>
    /// CPU time used so far by this process, its live descendants (/proc/PID/stat utime + stime) and its exited,
    /// reaped children (recycled decode workers), for the CPU a stretch of work cost the whole tree.
    /// </summary>
    public static TimeSpan CpuTime()
    {
        TimeSpan total = ArtGrid.Bench.CpuTime.Self + ArtGrid.Bench.CpuTime.ExitedChildren;
        if (!Supported)
        {
            return total;
        }

        foreach (int pid in Descendants(Environment.ProcessId))
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // After "pid (comm) ": state is rest[0], so utime (field 14) is rest[11] and stime rest[12], in clock ticks (100 Hz).
                long ticks = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
                total += TimeSpan.FromMilliseconds(ticks * 10);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // gone meanwhile
            }
        }

        return total;
    }

    private static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, List<int>>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                int parent = int.Parse(rest[1], CultureInfo.InvariantCulture);
                if (!parents.TryGetValue(parent, out List<int>? list))
                {
                    parents[parent] = list = [];
                }

                list.Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // gone meanwhile
            }
        }

        return Below(root, parents);
    }

    /// <summary>Every process below <paramref name="root"/>, from a map of each process to its children.</summary>
    public static List<int> Below(int root, IReadOnlyDictionary<int, List<int>> children)
    {
        var found = new List<int>();
        var pending = new Queue<int>([root]);
        while (pending.TryDequeue(out int pid))
        {
            foreach (int child in children.GetValueOrDefault(pid) ?? [])
            {
                found.Add(child);
                pending.Enqueue(child);
            }
        }

        return found;
    }

    private static long ResidentBytes(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // gone meanwhile
        }

        return 0;
    }
}

/// <summary>Samples <see cref="ProcessTree.Read"/> at a fixed period until disposed.</summary>
internal sealed class RssSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly long _start = System.Diagnostics.Stopwatch.GetTimestamp();

    public RssSampler(TimeSpan period)
    {
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(period);
            do
            {
                ProcessTree.Rss rss = ProcessTree.Read();
                lock (Samples)
                {
                    Samples.Add((System.Diagnostics.Stopwatch.GetElapsedTime(_start).TotalSeconds, rss));
                }
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).AsTask().ContinueWith(t => !t.IsCanceled && t.Result, TaskScheduler.Default));
        });
    }

    /// <summary>(seconds since the sampler started, reading).</summary>
    public List<(double Seconds, ProcessTree.Rss Rss)> Samples { get; } = [];

    public double Elapsed => System.Diagnostics.Stopwatch.GetElapsedTime(_start).TotalSeconds;

    public ProcessTree.Rss Peak
    {
        get
        {
            lock (Samples)
            {
                return Samples.Count == 0 ? default : Samples.MaxBy(s => s.Rss.TotalBytes).Rss;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
