namespace ArtGrid.Inference;

/// <summary>
/// The backbone graph as a load pruned and checked it, handed to the first session built from that load, so that the
/// ONNX file is parsed once per load rather than again for the session. Held weakly: a model loaded without a session
/// (a simulated device, a check that fails) keeps no copy of the graph, and a session that finds it gone (collected, or
/// taken by an earlier session on another device) prepares the graph again.
/// </summary>
public sealed class PreparedGraph
{
    private WeakReference<byte[]>? _bytes;

    public PreparedGraph(byte[] bytes) => _bytes = new WeakReference<byte[]>(bytes);

    /// <summary>The serialized graph, to the first caller only; null once taken or collected.</summary>
    public byte[]? Take() =>
        Interlocked.Exchange(ref _bytes, null) is { } weak && weak.TryGetTarget(out byte[]? bytes) ? bytes : null;
}
