using ArtGrid.Abstractions;

namespace ArtGrid.Grains.Ingestion;

/// <summary>
/// A finished image score, kept by content hash and model version, with the evidence found in its pixels (watermark,
/// alpha-channel metadata) and its class activation map, which a cache hit cannot have again without decoding.
/// </summary>
public sealed record CachedScore(string Label, double AiProbability, IReadOnlyList<Evidence>? PixelEvidence = null, ActivationMap? ActivationMap = null);

/// <summary>Results by (content SHA-256, model id). Embedded mode keeps them in memory; the cluster keeps them in Redis.</summary>
public interface IResultCache
{
    ValueTask<CachedScore?> TryGetAsync(string sha256, string modelId, CancellationToken cancellationToken = default);

    ValueTask SetAsync(string sha256, string modelId, CachedScore score, CancellationToken cancellationToken = default);
}
