using Orleans.Concurrency;

namespace ArtGrid.GrainInterfaces;

/// <summary>
/// Inference pinned to one device, keyed "{modelId}@{silo}/{device}" (e.g. "artgrid-resnet18/2@silo-1/cuda:0") and
/// placed on that silo and nowhere else. Batches the requests that reach it.
/// </summary>
public interface IInferenceGrain : IGrainWithStringKey
{
    Task<InferenceResult> InferAsync(Immutable<float[]> tensor, CancellationToken cancellationToken = default);
}
