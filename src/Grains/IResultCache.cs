namespace ArtGrid.Grains;

/// <summary>
/// A finished image score, kept by content hash and model version: the classifier's label and probability, the file's
/// provenance evidence (metadata and pixels: a pure function of the bytes the hash names) and its class activation map,
/// none of which a cache hit can have again without decoding.
/// </summary>
public sealed record CachedScore(string Label, double AiProbability, IReadOnlyList<Evidence>? Evidence = null, ActivationMap? ActivationMap = null, GeneratorGuess? Generator = null);

/// <summary>Results by (content SHA-256, model id). Embedded mode keeps them in memory; the cluster keeps them in Redis.</summary>
public interface IResultCache
{
    ValueTask<CachedScore?> TryGetAsync(string sha256, string modelId, CancellationToken cancellationToken = default);

    ValueTask SetAsync(string sha256, string modelId, CachedScore score, CancellationToken cancellationToken = default);
}
