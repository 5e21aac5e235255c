using System.Globalization;

namespace ArtGrid.Imaging.Sandbox;

/// <summary>
/// A hard memory cap on one decode worker from the kernel: a memory cgroup of its own, made beside the host in the
/// host's memory cgroup, with the worker moved into it once started. The supervisor's resident-memory poll answers
/// most blow-ups first (with a clean <c>decode_memory_limit</c>); the cgroup catches an allocation faster than the
/// poll, which the kernel's OOM killer then ends inside the cgroup, never touching the host.
/// <para>It needs a memory cgroup the host may write: cgroup v1's memory hierarchy (hybrid hosts), or a cgroup v2
/// whose memory controller is delegated to the host's cgroup (e.g. systemd <c>Delegate=yes</c>). Elsewhere (an
/// unprivileged host under v1, a v2 host without delegation, not Linux) there is none, the reason is reported, and the
/// poll and the worker's managed-heap cap remain.</para>
/// </summary>
internal sealed class WorkerMemoryCgroup
{
    private const string Prefix = "artgrid-decode-";
    private static int s_swept;

    private readonly string _path;
    private readonly bool _v2;

    private WorkerMemoryCgroup(string path, bool v2)
    {
        _path = path;
        _v2 = v2;
    }

    /// <summary>
    /// Makes a cgroup capped at <paramref name="limitBytes"/> and moves the process into it; null, with
    /// <paramref name="said"/> saying why, when the host has no writable memory cgroup.
    /// </summary>
    public static WorkerMemoryCgroup? TryCreate(int processId, long limitBytes, out string said)
    {
        if (!OperatingSystem.IsLinux())
        {
            said = "no memory cgroup: not Linux";
            return null;
        }

        string[] own;
        try
        {
            own = File.ReadAllLines("/proc/self/cgroup");
        }
        catch (IOException ex)
        {
            said = $"no memory cgroup: {ex.Message}";
            return null;
        }

        // Hybrid or v1: "N:memory:/path" with the memory hierarchy mounted; pure v2: "0::/path" and cgroup.controllers.
        string? v1 = own.Select(line => line.Split(':', 3)).FirstOrDefault(p => p.Length == 3 && p[1].Split(',').Contains("memory"))?[2];
        string? v2 = own.Select(line => line.Split(':', 3)).FirstOrDefault(p => p.Length == 3 && p[0] == "0" && p[1].Length == 0)?[2];
        bool isV2 = v1 is null && v2 is not null && File.Exists("/sys/fs/cgroup/cgroup.controllers");
        string? parent = isV2 ? "/sys/fs/cgroup" + v2 : v1 is not null && Directory.Exists("/sys/fs/cgroup/memory") ? "/sys/fs/cgroup/memory" + v1 : null;
        if (parent is null)
        {
            said = "no memory cgroup: the host has no memory cgroup hierarchy";
            return null;
        }

        SweepLeftovers(parent);
        string path = Path.Combine(parent, $"{Prefix}{Environment.ProcessId}-{processId}");
        try
        {
            if (isV2 && !File.ReadAllText(Path.Combine(parent, "cgroup.subtree_control")).Split(' ', '\n').Contains("memory"))
            {
                said = $"no memory cgroup: cgroup v2's memory controller is not delegated to {parent} (run the host in a cgroup with it delegated)";
                return null;
            }

            Directory.CreateDirectory(path);
            var cgroup = new WorkerMemoryCgroup(path, isV2);
            string limit = limitBytes.ToString(CultureInfo.InvariantCulture);
            File.WriteAllText(Path.Combine(path, isV2 ? "memory.max" : "memory.limit_in_bytes"), limit);
            string swap = Path.Combine(path, isV2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
            if (File.Exists(swap))
            {
                File.WriteAllText(swap, isV2 ? "0" : limit); // no escape into swap
            }

            File.WriteAllText(Path.Combine(path, "cgroup.procs"), processId.ToString(CultureInfo.InvariantCulture));
            said = $"memory cgroup {(isV2 ? "v2" : "v1")}: hard cap {limitBytes / (1024 * 1024)} MiB";
            return cgroup;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            said = $"no memory cgroup: {parent} is not writable by the host ({ex.Message})";
            TryRemove(path);
            return null;
        }
    }

    /// <summary>Whether the kernel's OOM killer has ended a process of this cgroup (it reached its cap).</summary>
    public bool OomKilled
    {
        get
        {
            try
            {
                // v1 memory.oom_control and v2 memory.events both have an "oom_kill N" line.
                string file = Path.Combine(_path, _v2 ? "memory.events" : "memory.oom_control");
                return File.ReadLines(file).Select(line => line.Split(' ')).Any(p => p is ["oom_kill", var n] && n != "0");
            }
            catch (IOException)
            {
                return false;
            }
        }
    }

    /// <summary>Removes the cgroup; the kernel refuses while a process is still in it, so call it once the worker exited.</summary>
    public void Remove() => TryRemove(_path);

    private static void TryRemove(string path)
    {
        try
        {
            Directory.Delete(path); // rmdir: a cgroup's files are not files to delete
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Busy or gone: the next host start sweeps it.
        }
    }

    // Cgroups left by a host that was killed before it could remove them: empty ones can be removed, busy ones refuse.
    private static void SweepLeftovers(string parent)
    {
        if (Interlocked.Exchange(ref s_swept, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (string leftover in Directory.EnumerateDirectories(parent, Prefix + "*"))
            {
                TryRemove(leftover);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing to sweep.
        }
    }
}
