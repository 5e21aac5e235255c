using System.Diagnostics;
using System.Security.Cryptography;
using ArtGrid.Abstractions;
using ArtGrid.Grains.Aggregation;
using ArtGrid.Grains.Diagnostics;
using ArtGrid.Grains.Imaging;
using ArtGrid.Grains.Inference;
using ArtGrid.Grains.Inference.Devices;
using ArtGrid.Grains.Provenance;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace ArtGrid.Grains.Ingestion;

/// <summary>
/// Per image: load the bytes, hash them, answer from the result cache (keyed by content and model version), else
/// preprocess (on this silo) and infer (on a device of the version its job resolved), then cache. Every failure
/// becomes a per-image error; none fails the job.
/// </summary>
[StatelessWorker, Reentrant]
public sealed partial class IngestionGrain(
    ModelSessions models,
    IResultCache cache,
    InferenceDispatcher dispatcher,
    IOptions<PreprocessingOptions> preprocessing,
    ArtGridInstruments instruments,
    ILogger<IngestionGrain> logger) : Grain, IIngestionGrain
{
    public async Task<ImageScore> ScoreImageAsync(int index, ImageRef image, string modelId, CancellationToken cancellationToken = default)
    {
        ImageScore score = await ScoreAsync(index, image, modelId, cancellationToken);
        instruments.ImageScored(score.Error?.Code ?? score.Label ?? "none", score.Cached);
        return score;
    }

    private async Task<ImageScore> ScoreAsync(int index, ImageRef image, string modelId, CancellationToken cancellationToken)
    {
        LoadedModel model;
        try
        {
            model = models.GetModel(modelId);
        }
        catch (Exception ex) when (ex is ModelNotFoundException or InvalidDataException or IOException)
        {
            // The catalog checked the version on its own silo; this silo's repository disagrees (a deployment fault).
            LogModelUnavailable(modelId, ex);
            return Failed(index, image, null, modelId, new ImageError(ErrorCodes.InferenceFailed, $"Model '{modelId}' does not load on this silo: {ex.Message}"));
        }

        long start = Stopwatch.GetTimestamp();
        (byte[]? bytes, ImageError? readError) = await ReadAsync(image, cancellationToken);
        if (bytes is null)
        {
            return Failed(index, image, null, model.Id, readError!);
        }

        // Hash and provenance in one pass off the grain scheduler; evidence is read for cached images too (it costs
        // microseconds and is not cached: the verdict policy may change).
        (string sha256, IReadOnlyList<Evidence> evidence) = await Task.Run(() => (Convert.ToHexStringLower(SHA256.HashData(bytes)), ProvenanceReader.Read(bytes)), cancellationToken);
        double readMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        CachedScore? cached = await cache.TryGetAsync(sha256, model.Id, cancellationToken);
        if (cached is not null)
        {
            return new ImageScore(index, image.Name, sha256, cached.Label, cached.AiProbability, model.Id, null, true, new ImageTimings(readMs, 0, 0), WithPixelEvidence(evidence, cached.PixelEvidence))
            {
                ActivationMap = cached.ActivationMap,
            };
        }

        start = Stopwatch.GetTimestamp();
        PreprocessResult prepared = await GrainFactory.GetGrain<IPreprocessGrain>(0).PrepareAsync(bytes.AsImmutable(), model.Id, cancellationToken);
        double preprocessMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (prepared.Error is not null || prepared.Tensor is null)
        {
            return Failed(index, image, sha256, model.Id, prepared.Error ?? new ImageError(ErrorCodes.DecodeFailed, "Preprocessing returned no tensor.")) with { Evidence = evidence };
        }

        start = Stopwatch.GetTimestamp();
        InferenceResult result;
        try
        {
            result = await dispatcher.InferAsync(model.Id, prepared.Tensor, cancellationToken);
        }
        catch (OverloadedException ex)
        {
            return Failed(index, image, sha256, model.Id, new ImageError(ErrorCodes.Overloaded, ex.Message));
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
        if (!result.Simulated)
        {
            await cache.SetAsync(sha256, model.Id, new CachedScore(label, result.AiProbability, prepared.PixelEvidence, result.ActivationMap), cancellationToken);
        }

        return new ImageScore(index, image.Name, sha256, label, result.AiProbability, model.Id, null, false, new ImageTimings(readMs, preprocessMs, inferenceMs), WithPixelEvidence(evidence, prepared.PixelEvidence))
        {
            ActivationMap = result.ActivationMap,
            Device = result.Device,
            Simulated = result.Simulated,
        };
    }

    private async Task<(byte[]? Bytes, ImageError? Error)> ReadAsync(ImageRef image, CancellationToken cancellationToken)
    {
        int maxBytes = preprocessing.Value.MaxBytes;
        switch (image.Kind)
        {
            case ImageSourceKind.Inline when image.Bytes is not null:
                return image.Bytes.Length switch
                {
                    0 => (null, new ImageError(ErrorCodes.EmptyFile, "The image has no bytes.")),
                    _ when image.Bytes.Length > maxBytes => (null, TooLarge(image.Bytes.Length, maxBytes)),
                    _ => (image.Bytes, null),
                };
            case ImageSourceKind.File:
                try
                {
                    var info = new FileInfo(image.Name);
                    if (!info.Exists)
                    {
                        return (null, new ImageError(ErrorCodes.Unreadable, $"No such file: {image.Name}"));
                    }

                    if (info.Length == 0)
                    {
                        return (null, new ImageError(ErrorCodes.EmptyFile, "The file is empty."));
                    }

                    if (info.Length > maxBytes)
                    {
                        return (null, TooLarge(info.Length, maxBytes));
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

    private static IReadOnlyList<Evidence> WithPixelEvidence(IReadOnlyList<Evidence> evidence, IReadOnlyList<Evidence>? pixels) =>
        pixels is not { Count: > 0 } ? evidence : [.. evidence, .. pixels.Where(p => !evidence.Any(e => e.Signal == p.Signal))];

    private static ImageError TooLarge(long length, int maxBytes) =>
        new(ErrorCodes.TooLarge, $"The file has {length} bytes; the limit is {maxBytes}.");

    private static ImageScore Failed(int index, ImageRef image, string? sha256, string modelId, ImageError error) =>
        new(index, image.Name, sha256, null, null, modelId, error, false, null);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Inference failed for {Image}")]
    private partial void LogInferenceFailed(string image, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Model {Model} does not load on this silo")]
    private partial void LogModelUnavailable(string model, Exception exception);
}
