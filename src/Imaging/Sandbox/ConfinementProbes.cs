using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace ArtGrid.Imaging.Sandbox;

/// <summary>
/// What code inside a decoder might try, tried for real: how a worker checks its confinement at start, and what
/// <c>artgrid-decode-worker --check-confinement</c> runs so that an operator (or a test) sees what this host's kernel
/// refuses. Each probe throws when refused.
/// </summary>
internal static class ConfinementProbes
{
    public const string CheckArgument = "--check-confinement";

    public static void OpenSocket()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    }

    public static void Write(string path) => File.WriteAllText(path, "written from inside a decode worker\n");

    public static void Connect(IPEndPoint endpoint)
    {
        using var client = new TcpClient();
        client.Connect(endpoint);
        client.GetStream().Write("connected from inside a decode worker\n"u8);
    }

    public static void SendDatagram(IPEndPoint endpoint)
    {
        using var client = new UdpClient();
        client.Send("sent from inside a decode worker\n"u8, endpoint);
    }

    public static void Execute(string program)
    {
        using Process process = Process.Start(new ProcessStartInfo(program) { UseShellExecute = false }) ?? throw new InvalidOperationException("no process");
        process.WaitForExit();
    }

    /// <summary>
    /// <c>--check-confinement [--mode M] [--connect HOST:PORT] [--write PATH] [--exec PROGRAM]</c>: confines this
    /// process as a worker is confined, tries each thing named, and prints one JSON object: what confinement applied and
    /// each attempt's outcome ("allowed" or "refused (...)"). Exit code 0 when every attempt was refused.
    /// </summary>
    public static int Check(string[] args)
    {
        var mode = Enum.Parse<ConfinementMode>(Option(args, "--mode") ?? nameof(ConfinementMode.BestEffort), ignoreCase: true);
        string? landlock = WorkerConfinement.ConfineAndReExecute(mode);
        string? seccomp = mode == ConfinementMode.Off ? null : WorkerConfinement.RefuseSystemCalls(mode);
        var outcomes = new Dictionary<string, string>();
        if (Option(args, "--connect") is { } connect)
        {
            IPEndPoint endpoint = IPEndPoint.Parse(connect);
            outcomes["connect"] = WorkerConfinement.Outcome(() => Connect(endpoint));
            outcomes["udp"] = WorkerConfinement.Outcome(() => SendDatagram(endpoint));
        }

        if (Option(args, "--write") is { } path)
        {
            outcomes["write"] = WorkerConfinement.Outcome(() => Write(path));
        }

        if (Option(args, "--exec") is { } program)
        {
            outcomes["exec"] = WorkerConfinement.Outcome(() => Execute(program));
        }

        Console.WriteLine(JsonSerializer.Serialize(new { mode = mode.ToString(), landlock, seccomp, outcomes }));
        return outcomes.Values.All(o => o.StartsWith("refused", StringComparison.Ordinal)) ? 0 : 1;
    }

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
