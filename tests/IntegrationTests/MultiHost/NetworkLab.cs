using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace ArtGrid.Tests.MultiHost;

/// <summary>
/// A private network of hosts on this machine: one Linux network namespace per host, each with its own loopback and
/// one interface (eth0) with its own address on a bridge made for this run, 10.213.N.0/24. The bridge carries this
/// process's own address on that network (.1), so the test reaches every host the way a client on the network would.
/// Needs root and iproute2. Every namespace and link is named after the process that made it (agt&lt;pid&gt;…), removed
/// at dispose whatever happened, and the leftovers of a run that died are removed when the next lab is made.
/// <para>
/// <see cref="Cut"/> partitions two hosts that both stay up: in each one's namespace a blackhole route to the other's
/// address (/32), so that nothing between the two passes, in either direction, while each still reaches every other
/// host on the bridge. A packet on a connection already open is dropped without a word, as on a broken network (TCP
/// retransmits into the void); a new connection to the other host fails at once (the kernel answers the local
/// sender EINVAL). <see cref="Heal"/> deletes the two routes. Routes need only iproute2, unlike firewall rules.
/// </para>
/// </summary>
public sealed partial class NetworkLab : IAsyncDisposable
{
    private const string Prefix = "agt";

    private readonly List<LabHost> _hosts = [];
    private readonly int _subnet;
    private bool _forwardRule;

    private NetworkLab(string bridge, int subnet)
    {
        Bridge = bridge;
        _subnet = subnet;
    }

    /// <summary>The bridge, also the name every namespace and veth of the lab starts with.</summary>
    public string Bridge { get; }

    /// <summary>This process's address on the lab network (the bridge's).</summary>
    public IPAddress Address => HostAddress(1);

    public IReadOnlyList<LabHost> Hosts => _hosts;

    /// <summary>Why a lab cannot be made here, or null when it can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces are a Linux feature";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "making network namespaces needs root";
        }

        return Which("ip") is null ? "iproute2's ip is missing (apt-get install -y iproute2)" : null;
    }

    public static NetworkLab Create()
    {
        if (Unavailable() is { } why)
        {
            throw new InvalidOperationException("No network lab on this machine: " + why);
        }

        RemoveLeftovers();
        int pid = Environment.ProcessId;
        var lab = new NetworkLab($"{Prefix}{pid}", 20 + (pid % 200));
        try
        {
            Run("ip", "link", "add", lab.Bridge, "type", "bridge");
            Run("ip", "addr", "add", $"{lab.Address}/24", "dev", lab.Bridge);
            Run("ip", "link", "set", lab.Bridge, "up");
            // Frames between two ports of a bridge pass the host's FORWARD chain where br_netfilter is loaded; a
            // machine whose policy drops them (Docker sets DROP) would cut the hosts off from each other.
            if (Which("iptables") is not null)
            {
                Run("iptables", "-I", "FORWARD", "-i", lab.Bridge, "-o", lab.Bridge, "-j", "ACCEPT");
                lab._forwardRule = true;
            }
        }
        catch
        {
            lab.TearDown();
            throw;
        }

        return lab;
    }

    /// <summary>A new host, 10.213.N.<paramref name="octet"/>, named <paramref name="name"/> in the namespace's name.</summary>
    public LabHost AddHost(string name, int octet)
    {
        string ns = $"{Bridge}-{name}";
        string outside = $"{Bridge}h{octet}", inside = $"{Bridge}p{octet}";
        IPAddress address = HostAddress(octet);
        Run("ip", "netns", "add", ns);
        var host = new LabHost(name, ns, address);
        _hosts.Add(host);
        Run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside);
        Run("ip", "link", "set", inside, "netns", ns);
        Run("ip", "link", "set", outside, "master", Bridge, "up");
        Run("ip", "-n", ns, "link", "set", inside, "name", "eth0");
        Run("ip", "-n", ns, "addr", "add", $"{address}/24", "dev", "eth0");
        Run("ip", "-n", ns, "link", "set", "eth0", "up");
        Run("ip", "-n", ns, "link", "set", "lo", "up");
        return host;
    }

    /// <summary>Nothing passes between <paramref name="a"/> and <paramref name="b"/> until <see cref="Heal"/>.</summary>
    public static void Cut(LabHost a, LabHost b)
    {
        Run("ip", "-n", a.Namespace, "route", "add", "blackhole", $"{b.Address}/32");
        Run("ip", "-n", b.Namespace, "route", "add", "blackhole", $"{a.Address}/32");
    }

    /// <summary>Undoes <see cref="Cut"/>: the two hosts reach each other again.</summary>
    public static void Heal(LabHost a, LabHost b)
    {
        Run("ip", "-n", a.Namespace, "route", "del", "blackhole", $"{b.Address}/32");
        Run("ip", "-n", b.Namespace, "route", "del", "blackhole", $"{a.Address}/32");
    }

    public ValueTask DisposeAsync()
    {
        TearDown();
        return ValueTask.CompletedTask;
    }

    /// <summary>Every process in the lab's namespaces killed, the namespaces, veths, bridge and forward rule removed.</summary>
    private void TearDown()
    {
        foreach (LabHost host in _hosts)
        {
            host.KillAll();
        }

        foreach (LabHost host in _hosts)
        {
            Run(false, "ip", "netns", "del", host.Namespace);
        }

        _hosts.Clear();
        Run(false, "ip", "link", "del", Bridge);
        if (_forwardRule)
        {
            Run(false, "iptables", "-D", "FORWARD", "-i", Bridge, "-o", Bridge, "-j", "ACCEPT");
            _forwardRule = false;
        }
    }

    private IPAddress HostAddress(int octet) => IPAddress.Parse($"10.213.{_subnet}.{octet}");

    /// <summary>Namespaces and bridges of labs whose process is gone (a run killed before it could clean up).</summary>
    private static void RemoveLeftovers()
    {
        foreach (string line in Run(false, "ip", "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string ns = line.Split(' ')[0];
            if (LabName().Match(ns) is { Success: true } m && !Alive(m.Groups[1].Value))
            {
                new LabHost("leftover", ns, IPAddress.None).KillAll();
                Run(false, "ip", "netns", "del", ns);
            }
        }

        foreach (string line in Run(false, "ip", "-o", "link", "show", "type", "bridge").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string name = line.Split(':', 3)[1].Trim();
            if (LabName().Match(name) is { Success: true } m && m.Value == name && !Alive(m.Groups[1].Value))
            {
                Run(false, "ip", "link", "del", name);
                if (Which("iptables") is not null)
                {
                    Run(false, "iptables", "-D", "FORWARD", "-i", name, "-o", name, "-j", "ACCEPT");
                }
            }
        }
    }

    private static bool Alive(string pid) => Directory.Exists("/proc/" + pid);

    [GeneratedRegex("^agt([0-9]+)(?=-|$)")]
    private static partial Regex LabName();

    internal static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Concat(["/usr/sbin", "/sbin"])
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    internal static string Run(params string[] args) => Run(true, args);

    /// <summary>Runs a command to its end; its stdout, or (when <paramref name="check"/>) an exception with its stderr.</summary>
    internal static string Run(bool check, params string[] args)
    {
        var start = new ProcessStartInfo(Which(args[0]) ?? args[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in args.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{string.Join(' ', args)}` failed ({process.ExitCode.ToString(CultureInfo.InvariantCulture)}): {stderr.Result.Trim()}");
        }

        return stdout;
    }
}

/// <summary>One host of a <see cref="NetworkLab"/>: a network namespace with one address.</summary>
public sealed record LabHost(string Name, string Namespace, IPAddress Address)
{
    /// <summary>SIGKILL to every process in the namespace: the host loses power.</summary>
    public void KillAll()
    {
        foreach (string pid in NetworkLab.Run(false, "ip", "netns", "pids", Namespace).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            NetworkLab.Run(false, "kill", "-KILL", pid.Trim());
        }
    }

    /// <summary>
    /// How to run <paramref name="program"/> on this host (<c>ip netns exec</c>, which replaces itself with the program:
    /// the process is the program), its output redirected; the caller adds the environment and runs it
    /// (<see cref="Cluster.TestProcesses.RunAsync"/>, or <see cref="LabProcess"/> for a server).
    /// </summary>
    public ProcessStartInfo Command(string program, IEnumerable<string> arguments, string workingDirectory = "")
    {
        var start = new ProcessStartInfo(NetworkLab.Which("ip") ?? "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (string argument in (string[])["netns", "exec", Namespace, program, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>Every TCP socket that listens in the namespace: local address and port, with the program's name.</summary>
    public IReadOnlyList<(IPEndPoint Local, string Program)> Listening()
    {
        var sockets = new List<(IPEndPoint, string)>();
        foreach (string line in NetworkLab.Run("ip", "netns", "exec", Namespace, "ss", "-Hltnp").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string local = columns[3];
            int colon = local.LastIndexOf(':');
            string address = local[..colon].Trim('[', ']');
            IPAddress ip = address == "*" ? IPAddress.IPv6Any : IPAddress.Parse(address.Split('%')[0]);
            string program = Regex.Match(line, "users:\\(\\(\"([^\"]+)\"").Groups[1].Value;
            sockets.Add((new IPEndPoint(ip, int.Parse(local[(colon + 1)..], CultureInfo.InvariantCulture)), program));
        }

        return sockets;
    }
}
