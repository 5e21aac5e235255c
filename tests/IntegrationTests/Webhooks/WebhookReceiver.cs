using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ArtGrid.Tests.Webhooks;

/// <summary>One request a <see cref="WebhookReceiver"/> took.</summary>
public sealed record ReceivedWebhook(string Method, string Path, string? ContentType, string? Signature, string? WebhookId, byte[] Body);

/// <summary>
/// A real HTTP server on 127.0.0.1 (HttpListener on a free port) standing in for a caller's webhook endpoint: it
/// records every request by path and answers each path with the statuses a test scripts for it (200 once the script
/// runs out).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _scripts = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public WebhookReceiver()
    {
        (_listener, Port) = Listen();
        _loop = ServeAsync();
    }

    public int Port { get; }

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}{path}");

    /// <summary>Answers the next requests to <paramref name="path"/> with these statuses, in order; a 3xx carries a Location.</summary>
    public void Script(string path, params int[] statuses) => _scripts[path] = new ConcurrentQueue<int>(statuses);

    public IReadOnlyList<ReceivedWebhook> To(string path) => [.. _received.Where(r => r.Path == path)];

    public IReadOnlyList<ReceivedWebhook> All => [.. _received];

    public int Count => _received.Count;

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopping the listener ends the loop this way.
        }
    }

    /// <summary>A port on 127.0.0.1 that nothing listens on (bound, then released): connections to it are refused.</summary>
    public static int ClosedPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static (HttpListener, int) Listen()
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = ClosedPort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return (listener, port);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // Another process took the port between the probe and the listener: try another.
                listener.Close();
            }
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context = await _listener.GetContextAsync();
            HttpListenerRequest request = context.Request;
            using var body = new MemoryStream();
            await request.InputStream.CopyToAsync(body);
            string path = request.Url!.AbsolutePath;
            _received.Enqueue(new ReceivedWebhook(
                request.HttpMethod, path, request.ContentType, request.Headers["ArtGrid-Signature"], request.Headers["ArtGrid-Webhook-Id"], body.ToArray()));
            int status = _scripts.TryGetValue(path, out ConcurrentQueue<int>? script) && script.TryDequeue(out int next) ? next : 200;
            context.Response.StatusCode = status;
            if (status is >= 300 and < 400)
            {
                context.Response.RedirectLocation = path + "/moved";
            }

            context.Response.Close();
        }
    }
}
