using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// Serves test jobs' images over HTTP on 127.0.0.1, to hold a silo on a job for as long as a test needs. The first
/// request for an image is answered after <c>delay</c>, or, for a <c>held</c> one, not before <see cref="Release"/>; any
/// later request at once.
/// </summary>
internal sealed class HeldImageServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly IReadOnlyList<byte[]> _images;
    private readonly Func<int, bool> _held;
    private readonly TimeSpan _delay;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstRequest = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<int, int> _requests = new();
    private readonly Uri _root;
    private readonly Task _loop;

    public HeldImageServer(IReadOnlyList<byte[]> images, Func<int, bool> held, TimeSpan delay)
    {
        _images = images;
        _held = held;
        _delay = delay;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _root = new Uri($"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/");
        }

        _listener.Prefixes.Add(_root.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The images asked for at least once.</summary>
    public IReadOnlyCollection<int> Requested => [.. _requests.Keys];

    /// <summary>Completes at the first request for any image.</summary>
    public Task FirstRequest => _firstRequest.Task;

    public Uri Url(int index) => new(_root, $"img/{index}.jpg");

    public void Release() => _release.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        _listener.Stop();
        await _loop;
        _listener.Close();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            string file = context.Request.Url!.Segments[^1];
            int index = int.Parse(file[..file.IndexOf('.', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            _firstRequest.TrySetResult();
            if (_requests.AddOrUpdate(index, 1, (_, n) => n + 1) == 1)
            {
                await (_held(index) ? _release.Task : Task.Delay(_delay));
            }

            context.Response.ContentType = "image/jpeg";
            context.Response.ContentLength64 = _images[index].Length;
            await context.Response.OutputStream.WriteAsync(_images[index]);
            context.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The silo gave up on this request (a drain cancelled its job) or the test ended: nothing to answer.
        }
    }
}
