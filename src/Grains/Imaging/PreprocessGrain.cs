using ArtGrid.Abstractions;
using ArtGrid.Grains.Inference;
using Orleans.Concurrency;

namespace ArtGrid.Grains.Imaging;

/// <summary>
/// Decode, orient, resize and pack on the silo that received the image. One activation per core, each preparing one
/// image at a time off the grain scheduler: in a decode worker process by default, or on the thread pool.
/// </summary>
[StatelessWorker]
public sealed class PreprocessGrain(IImagePreparer preparer, ModelSessions models) : Grain, IPreprocessGrain
{
    public async Task<PreprocessResult> PrepareAsync(Immutable<byte[]> bytes, string modelId, CancellationToken cancellationToken = default)
    {
        ModelInputSpec spec = models.GetModel(modelId).Input;
        PreparedImage prepared = await preparer.PrepareAsync(bytes.Value, spec, cancellationToken);
        return prepared.ToResult();
    }
}
