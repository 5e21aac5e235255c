using System.Diagnostics;
using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using ArtGrid.Inference.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Grains;

/// <summary>
/// Scores one image: load the bytes (the size checked once, before reading), hash them, answer from the result cache
/// (keyed by content and model version), else decode in the sandbox (pixels, tensor and the file's provenance evidence
/// in one request: the host never parses the file) and infer on a device of the version its job resolved, then cache.
/// Stateless: a plain service that the job grain (and the embedded scorer) calls, on the silo that received the job.
/// Every failure becomes a per-image error; none fails the job. The score carries the classifier's label
/// (<see cref="ImageScore.ClassifierLabel"/>); the verdict's label is the verdict policy's to set.
/// </summary>
public sealed partial class ImageScorer(
    ModelSessions models,
    IResultCache cache,
    IImagePreparer preparer,
    InferenceDispatcher dispatcher,
    IOptions<PreprocessingOptions> preprocessing,
    ArtGridInstruments instruments,
    ILogger<ImageScorer> logger)
{
    public async Task<ImageScore> ScoreAsync(int index, ImageRef image, string modelId, CancellationToken cancellationToken = default) =>
        (await ScoreAsync(index, image, modelId, keepOriented: false, cancellationToken)).Score;

    /// <summary>
    /// Scores the image; with <paramref name="keepOriented"/> also returns it as scored, before resizing, from the same
    /// decode (for activation map overlays; a cache hit decodes in the sandbox for it, and is still answered from the cache).
    /// </summary>
    public async Task<ScoredImage> ScoreAsync(int index, ImageRef image, string modelId, bool keepOriented, CancellationToken cancellationToken = default)
    {
        ScoredImage scored = await ScoreCoreAsync(index, image, modelId, keepOriented, useCache: true, cancellationToken);
        instruments.ImageScored(scored.Score.Error?.Code ?? scored.Score.ClassifierLabel ?? "none", scored.Score.Cached);
        return scored;
    }

    /// <summary>
    /// Scores the image without the result cache, neither read nor written: for a job scored while Redis cannot be
    /// reached, where each lookup would wait for the Redis client's timeout before it missed.
    /// </summary>
    public async Task<ImageScore> ScoreUncachedAsync(int index, ImageRef image, string modelId, CancellationToken cancellationToken = default)
    {
        ScoredImage scored = await ScoreCoreAsync(index, image, modelId, keepOriented: false, useCache: false, cancellationToken);
        instruments.ImageScored(scored.Score.Error?.Code ?? scored.Score.ClassifierLabel ?? "none", cached: false);
        return scored.Score;
    }

    /// <summary>
    /// Each image's score from the result cache, null where it misses; or null for the whole job when not every image
    /// is inline (within the size limit) or named by its hash (<see cref="ImageSourceKind.Hash"/>), or the model does
    /// not load on this silo. A job that is all hits needs no grain: its verdict is made from these (then
    /// <see cref="CountCacheHits"/>); anything else is left to <see cref="ScoreAsync(int, ImageRef, string, CancellationToken)"/>,
    /// which decides it the same way. The lookups go out together: one round trip to Redis for the job, whatever its
    /// number of images. Reads nothing but the cache, and counts nothing.
    /// </summary>
    public async Task<ImageScore?[]?> LookUpAsync(IReadOnlyList<ImageRef> images, string modelId, CancellationToken cancellationToken = default)
    {
        if (images.Count == 0 || !images.All(image => image is { Kind: ImageSourceKind.Hash, Sha256: not null }
            || (image is { Kind: ImageSourceKind.Inline, Bytes: { } bytes } && ImageLimits.CheckLength(bytes.Length, preprocessing.Value.MaxBytes) is null)))
        {
            return null;
        }

        if (TryLoad(modelId, out _) is not { } model)
        {
            return null;
        }

        return await Task.WhenAll(images.Select(async (image, index) =>
        {
            long start = Stopwatch.GetTimestamp();
            string sha256 = image.Sha256 ?? ContentHash.Of(image.Bytes!);
            double readMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return await cache.TryGetAsync(sha256, model.Id, cancellationToken) is { } cached ? FromCache(index, image, sha256, model.Id, cached, readMs) : null;
        }));
    }

    /// <summary>Counts a job answered whole from <see cref="LookUpAsync"/> as <see cref="ScoreAsync(int, ImageRef, string, CancellationToken)"/> counts its images.</summary>
    public void CountCacheHits(IEnumerable<ImageScore> scores)
    {
        foreach (ImageScore score in scores)
        {
            instruments.ImageScored(score.ClassifierLabel ?? "none", cached: true);
        }
    }

    // The job's model version as this silo loads it, or null with the reason it does not load.
    private LoadedModel? TryLoad(string modelId, out Exception? failure)
    {
        try
        {
            failure = null;
            return models.GetModel(modelId);
        }
        catch (Exception ex) when (ex is ModelNotFoundException or InvalidDataException or IOException)
        {
            failure = ex;
            return null;
        }
    }

    // A cache hit, answered as it was scored: the label, probability, evidence, map and generator the entry keeps.
    private static ImageScore FromCache(int index, ImageRef image, string sha256, string modelId, CachedScore cached, double readMs) =>
        new(index, image.Name, sha256, null, cached.AiProbability, modelId, null, true, new ImageTimings(readMs, 0, 0), cached.Evidence ?? [])
        {
            ClassifierLabel = cached.Label,
            ActivationMap = cached.ActivationMap,
            Generator = cached.Generator,
        };

    private async Task<ScoredImage> ScoreCoreAsync(int index, ImageRef image, string modelId, bool keepOriented, bool useCache, CancellationToken cancellationToken)
    {
        if (TryLoad(modelId, out Exception? failure) is not { } model)
        {
            // The catalog checked the version on its own silo; this silo's repository disagrees (a deployment fault).
            LogModelUnavailable(modelId, failure!);
            return Failed(index, image, null, modelId, new ImageError(ErrorCodes.InferenceFailed, $"Model '{modelId}' does not load on this silo: {failure!.Message}"));
        }

        if (image is { Kind: ImageSourceKind.Hash, Sha256: { } known })
        {
            // No bytes to score: the cache answers, or the image fails (its entry expired since the consumer looked).
            return useCache && await cache.TryGetAsync(known, model.Id, cancellationToken) is { } hit
                ? new ScoredImage(FromCache(index, image, known, model.Id, hit, 0), null)
                : Failed(index, image, known, model.Id, new ImageError(ErrorCodes.NotCached, $"Image '{image.Name}' was sent by its SHA-256 alone, and the result cache holds no score of it for {model.Id}: send its bytes."));
        }

        long start = Stopwatch.GetTimestamp();
        (byte[]? bytes, ImageError? readError) = await ReadAsync(image, cancellationToken);
        if (bytes is null)
        {
            return Failed(index, image, null, model.Id, readError!);
        }

        string sha256 = await Task.Run(() => ContentHash.Of(bytes), cancellationToken);
        double readMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        CachedScore? cached = useCache ? await cache.TryGetAsync(sha256, model.Id, cancellationToken) : null;
        if (cached is not null)
        {
            OrientedImage? pixels = keepOriented ? (await preparer.PrepareAsync(bytes, model.Input, keepOriented: true, cancellationToken)).Oriented : null;
            return new ScoredImage(FromCache(index, image, sha256, model.Id, cached, readMs), pixels);
        }

        start = Stopwatch.GetTimestamp();
        PreparedImage prepared = await preparer.PrepareAsync(bytes, model.Input, keepOriented, cancellationToken);
        double preprocessMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        IReadOnlyList<Evidence> evidence = prepared.Evidence ?? [];
        if (prepared.Error is not null || prepared.Tensor is null)
        {
            return Failed(index, image, sha256, model.Id, prepared.Error ?? new ImageError(ErrorCodes.DecodeFailed, "Preprocessing returned no tensor."), evidence);
        }

        start = Stopwatch.GetTimestamp();
        InferenceResult result;
        try
        {
            result = await dispatcher.InferAsync(model.Id, prepared.Tensor, cancellationToken);
        }
        catch (OverloadedException ex)
        {
            return Failed(index, image, sha256, model.Id, new ImageError(ErrorCodes.Overloaded, ex.Message) { RetryAfterMs = (int)Math.Ceiling(ex.RetryAfter.TotalMilliseconds) });
        }
        catch (DeviceUnavailableException ex)
        {
            return Failed(index, image, sha256, model.Id, new ImageError(ErrorCodes.InferenceFailed, ex.Message));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogInferenceFailed(image.Name, ex);
            return Failed(index, image, sha256, model.Id, new ImageError(ErrorCodes.InferenceFailed, ex.Message));
        }

        double inferenceMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        string label = VerdictPolicy.Label(result.AiProbability, model.Config);
        if (useCache && !result.Simulated)
        {
            await cache.SetAsync(sha256, model.Id, new CachedScore(label, result.AiProbability, evidence, result.ActivationMap, result.Generator), cancellationToken);
        }

        return new ScoredImage(
            new ImageScore(index, image.Name, sha256, null, result.AiProbability, model.Id, null, false, new ImageTimings(readMs, preprocessMs, inferenceMs), evidence)
            {
                ClassifierLabel = label,
                ActivationMap = result.ActivationMap,
                Generator = result.Generator,
                Device = result.Device,
                Simulated = result.Simulated,
            },
            prepared.Oriented);
    }

    private async Task<(byte[]? Bytes, ImageError? Error)> ReadAsync(ImageRef image, CancellationToken cancellationToken)
    {
        int maxBytes = preprocessing.Value.MaxBytes;
        switch (image.Kind)
        {
            case ImageSourceKind.Inline when image.Bytes is not null:
                return ImageLimits.CheckLength(image.Bytes.Length, maxBytes) is { } tooBig ? (null, tooBig) : (image.Bytes, null);
            case ImageSourceKind.File:
                try
                {
                    var info = new FileInfo(image.Name);
                    if (!info.Exists)
                    {
                        return (null, new ImageError(ErrorCodes.Unreadable, $"No such file: {image.Name}"));
                    }

                    if (ImageLimits.CheckLength(info.Length, maxBytes) is { } refused)
                    {
                        return (null, refused);
                    }

                    return (await File.ReadAllBytesAsync(image.Name, cancellationToken), null);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    return (null, new ImageError(ErrorCodes.Unreadable, ex.Message));
                }

            default:
                return (null, new ImageError(ErrorCodes.Unreadable, $"Image reference '{image.Name}' of kind {image.Kind} carries nothing to read."));
        }
    }

    private static ScoredImage Failed(int index, ImageRef image, string? sha256, string modelId, ImageError error, IReadOnlyList<Evidence>? evidence = null) =>
        new(new ImageScore(index, image.Name, sha256, null, null, modelId, error, false, null, evidence), null);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Inference failed for {Image}")]
    private partial void LogInferenceFailed(string image, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Model {Model} does not load on this silo")]
    private partial void LogModelUnavailable(string model, Exception exception);
}
