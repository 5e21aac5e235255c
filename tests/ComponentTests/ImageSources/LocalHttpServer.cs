using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ArtGrid.Tests.ImageSources;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 written on a TcpListener, so that every response (chunked bodies,
/// lying lengths, stalls) is exactly what a test needs. One request per connection; it records accepted
/// connections and request paths.
/// </summary>
public sealed class LocalHttpServer : IAsyncDisposable
{
    /// <summary>Size of the /chunked-large body, sent without Content-Length.</summary>
    public const int LargeBodyBytes = 256 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly byte[] _image;
    private readonly Task _acceptLoop;
    private int _accepted;

    public LocalHttpServer(byte[] image)
    {
        _image = image;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _accepted);

    /// <summary>Request paths received so far, in order.</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    public Uri Url(string path, string host = "127.0.0.1") => new($"http://{host}:{Port}{path}");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await Quietly(_acceptLoop);
        foreach (Task connection in _connections)
        {
            await Quietly(connection);
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _connections.Add(Task.Run(() => ServeAsync(client, stop), CancellationToken.None));
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken stop)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                string? path = await ReadRequestPathAsync(stream, stop);
                if (path is null)
                {
                    return;
                }

                _requests.Enqueue(path);
                await RespondAsync(stream, path, stop);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away (it refused the body, or timed out) or the server is stopping.
            }
        }
    }

    private async Task RespondAsync(NetworkStream stream, string path, CancellationToken stop)
    {
        switch (path)
        {
            case "/image.jpg":
                await HeadAsync(stream, stop, "200 OK", "Content-Type: image/jpeg", $"Content-Length: {_image.Length}");
                await stream.WriteAsync(_image, stop);
                break;
            case "/chunked-image.jpg":
                await HeadAsync(stream, stop, "200 OK", "Content-Type: image/jpeg", "Transfer-Encoding: chunked");
                for (int offset = 0; offset < _image.Length; offset += 1000)
                {
                    await ChunkAsync(stream, _image.AsMemory(offset, Math.Min(1000, _image.Length - offset)), stop);
                }

                await ChunkAsync(stream, ReadOnlyMemory<byte>.Empty, stop);
                break;
            case "/empty":
                await HeadAsync(stream, stop, "200 OK", "Content-Length: 0");
                break;
            case "/missing":
                await HeadAsync(stream, stop, "404 Not Found", "Content-Length: 0");
                break;
            case "/gone":
                await HeadAsync(stream, stop, "410 Gone", "Content-Length: 0");
                break;
            case "/forbidden":
                await HeadAsync(stream, stop, "403 Forbidden", "Content-Length: 0");
                break;
            case "/too-many-requests":
                await HeadAsync(stream, stop, "429 Too Many Requests", "Content-Length: 0");
                break;
            case "/unavailable":
                await HeadAsync(stream, stop, "503 Service Unavailable", "Content-Length: 0");
                break;
            case "/redirect":
                await HeadAsync(stream, stop, "302 Found", "Location: /image.jpg", "Content-Length: 0");
                break;
            case "/redirect-to-localhost":
                await HeadAsync(stream, stop, "302 Found", $"Location: http://localhost:{Port}/image.jpg", "Content-Length: 0");
                break;
            case "/redirect-to-ftp":
                await HeadAsync(stream, stop, "301 Moved Permanently", $"Location: ftp://127.0.0.1:{Port}/image.jpg", "Content-Length: 0");
                break;
            case "/redirect-loop":
                await HeadAsync(stream, stop, "307 Temporary Redirect", "Location: /redirect-loop", "Content-Length: 0");
                break;
            case "/chunked-large":
                await HeadAsync(stream, stop, "200 OK", "Content-Type: image/jpeg", "Transfer-Encoding: chunked");
                var block = new byte[4096];
                for (int sent = 0; sent < LargeBodyBytes; sent += block.Length)
                {
                    await ChunkAsync(stream, block, stop);
                }

                await ChunkAsync(stream, ReadOnlyMemory<byte>.Empty, stop);
                break;
            case "/declared-large":
                // Announces a gigabyte, then sends nothing: only a client that trusts the header fails fast.
                await HeadAsync(stream, stop, "200 OK", "Content-Type: image/jpeg", "Content-Length: 1073741824");
                await Task.Delay(Timeout.Infinite, stop);
                break;
            case "/slow-headers":
                await Task.Delay(Timeout.Infinite, stop);
                break;
            case "/slow-body":
                await HeadAsync(stream, stop, "200 OK", "Content-Type: image/jpeg", $"Content-Length: {_image.Length}");
                await stream.WriteAsync(_image.AsMemory(0, 100), stop);
                await Task.Delay(Timeout.Infinite, stop);
                break;
            default:
                await HeadAsync(stream, stop, "404 Not Found", "Content-Length: 0");
                break;
        }
    }

    private static async Task HeadAsync(NetworkStream stream, CancellationToken stop, string status, params string[] headers)
    {
        var head = new StringBuilder($"HTTP/1.1 {status}\r\n");
        foreach (string header in headers)
        {
            head.Append(header).Append("\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), stop);
    }

    private static async Task ChunkAsync(NetworkStream stream, ReadOnlyMemory<byte> data, CancellationToken stop)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:X}\r\n"), stop);
        await stream.WriteAsync(data, stop);
        await stream.WriteAsync("\r\n"u8.ToArray(), stop);
    }

    /// <summary>The path of "GET /path HTTP/1.1", after reading the whole request head.</summary>
    private static async Task<string?> ReadRequestPathAsync(NetworkStream stream, CancellationToken stop)
    {
        var head = new List<byte>();
        var buffer = new byte[1024];
        while (head.Count < 16 * 1024)
        {
            int read = await stream.ReadAsync(buffer, stop);
            if (read == 0)
            {
                return null;
            }

            head.AddRange(buffer.AsSpan(0, read));
            string text = Encoding.ASCII.GetString([.. head]);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                string[] requestLine = text[..text.IndexOf("\r\n", StringComparison.Ordinal)].Split(' ');
                return requestLine.Length == 3 ? requestLine[1] : null;
            }
        }

        return null;
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }
}
