using ArtGrid.Abstractions;
using ArtGrid.Grains.Inference;
using Orleans.Concurrency;

namespace ArtGrid.Grains.Imaging;

/// <summary>
/// Decode, orient, resize and pack on the silo that received the image. One activation per core, each decoding one
/// image at a time on the thread pool, so decoding never blocks the grain scheduler and never oversubscribes the CPU.
/// </summary>
[StatelessWorker]
public sealed class PreprocessGrain(ImagePreprocessor preprocessor, ModelSessions models) : Grain, IPreprocessGrain
{
    public async Task<PreprocessResult> PrepareAsync(Immutable<byte[]> bytes, string modelId, CancellationToken cancellationToken = default)
    {
        ModelInputSpec spec = models.GetModel(modelId).Input;
        PreparedImage prepared = await Task.Run(() => preprocessor.Prepare(bytes.Value, spec), cancellationToken);
        return prepared.ToResult();
    }
}
