using System.Net;
using System.Net.Sockets;

namespace ArtGrid.Tests;

/// <summary>
/// Ports for the listeners of the programs the tests start (silos, gateways). A port the kernel hands out for a bind to
/// port 0 comes from its ephemeral range, the same range every outgoing connection takes its local port from: between
/// the moment a test learns such a port and the moment a started process binds it (seconds, for a silo), a connection
/// to Redis or the broker from any test may take it, and the process fails with "address already in use". These ports
/// come from below that range (which no outgoing connection uses), each handed out once per test process, and each
/// checked free on loopback when handed out.
/// </summary>
public static class TestPorts
{
    // Below Linux's default ephemeral range (32768-60999), above the test servers' ports (Redis 639x, AMQP 569x and
    // its distribution port 2569x, epmd 4369, the management plugin's 15672).
    private const int First = 26000;
    private const int Count = 6000;

    // Where this process starts in the range: test processes run one after another, but two runs of the tests on one
    // machine start far apart.
    private static int s_next = Environment.ProcessId % Count;

    /// <summary>A loopback TCP port that nothing listens on now and that no other call in this process is given.</summary>
    public static int Free()
    {
        for (int tried = 0; tried < Count; tried++)
        {
            int port = First + (Interlocked.Increment(ref s_next) % Count);
            if (CanListen(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No free TCP port in {First}-{First + Count - 1}.");
    }

    private static bool CanListen(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
