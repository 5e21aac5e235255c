using ArtGrid.Abstractions;
using ArtGrid.Grains.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace ArtGrid.Grains.Inference;

/// <summary>
/// Inference pinned to one device, keyed "{model}@{device}". Reentrant, so that concurrent requests meet in its
/// <see cref="DynamicBatcher{TIn,TOut}"/>; ONNX Runtime runs on the batcher's thread-pool loop, never on the
/// grain scheduler. It holds its model's session while active and releases it when deactivated; once its model
/// version is no longer the active one it asks to be deactivated as soon as it is idle (checked every
/// <see cref="InactiveCheckPeriod"/>), so that a switched-away version unloads without waiting for idle collection.
/// </summary>
[Reentrant]
[Orleans.Placement.PreferLocalPlacement]
public sealed partial class InferenceGrain(
    ModelSessions models,
    ActiveVersions activeVersions,
    IOptions<InferenceOptions> options,
    ArtGridInstruments instruments,
    TimeProvider time,
    ILogger<InferenceGrain> logger)
    : Grain, IInferenceGrain
{
    /// <summary>How often an inference grain checks that its model version is still the active one.</summary>
    public static readonly TimeSpan InactiveCheckPeriod = TimeSpan.FromSeconds(15);

    private DynamicBatcher<float[], ModelScore>? _batcher;
    private string _modelId = "";
    private string _device = "";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (string modelId, string device) = DeviceKey.Parse(this.GetPrimaryKeyString());
        _modelId = modelId;
        _device = device;
        InferenceOptions settings = options.Value;
        // Creating the session runs a blank image through it, so the first real request does not pay for ONNX
        // Runtime's first-run allocations.
        OnnxModelSession session = await Task.Run(() => models.AcquireSession(modelId, device), cancellationToken);
        _batcher = new DynamicBatcher<float[], ModelScore>(
            device,
            new BatchingOptions(settings.MaxBatchSize, TimeSpan.FromMilliseconds(settings.MaxQueueDelayMs), settings.QueueCapacity),
            session.Score,
            time,
            (size, compute) => instruments.BatchRan(device, size, compute));
        this.RegisterGrainTimer(DeactivateIfInactiveAsync, InactiveCheckPeriod, InactiveCheckPeriod);
        LogActivated(modelId, device, settings.MaxBatchSize, settings.QueueCapacity);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_batcher is not null)
        {
            // Finishes what is queued before the session goes.
            await _batcher.DisposeAsync();
            _batcher = null;
            models.ReleaseSession(_modelId, _device);
            LogReleased(_modelId, _device, reason.Description);
        }
    }

    public async Task<InferenceResult> InferAsync(Immutable<float[]> tensor, CancellationToken cancellationToken = default)
    {
        DynamicBatcher<float[], ModelScore> batcher = _batcher ?? throw new InvalidOperationException("The inference grain is not active.");
        Task<BatchedResult<ModelScore>> queued;
        try
        {
            queued = batcher.EnqueueAsync(tensor.Value, cancellationToken);
        }
        catch (OverloadedException)
        {
            instruments.Rejected(_device);
            throw;
        }

        BatchedResult<ModelScore> result = await queued;
        instruments.Dequeued(_device, result.QueueDelay);
        return new InferenceResult(result.Value.AiProbability, result.QueueDelay.TotalMilliseconds, result.Compute.TotalMilliseconds, result.BatchSize, result.Value.Map);
    }

    // Requests still on their way to an inactive version (jobs that resolved it before the switch) are served: Orleans
    // deactivates the grain only once it is idle, and a request arriving later activates it again.
    private async Task DeactivateIfInactiveAsync(CancellationToken cancellationToken)
    {
        int slash = _modelId.IndexOf('/', StringComparison.Ordinal);
        string active;
        try
        {
            active = slash > 0 ? await activeVersions.ModelIdAsync(_modelId[..slash], cancellationToken) : _modelId;
        }
        catch (ModelVersionException)
        {
            return; // the catalog has no active version of this model: nothing better to switch to, stay loaded
        }

        if (active != _modelId)
        {
            LogInactive(_modelId, _device);
            this.DeactivateOnIdle();
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Inference for {Model} on {Device} ready (max batch {MaxBatch}, queue {Queue})")]
    private partial void LogActivated(string model, string device, int maxBatch, int queue);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Inference for {Model} on {Device} is no longer the active version; unloading when idle")]
    private partial void LogInactive(string model, string device);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Inference for {Model} on {Device} released its session ({Reason})")]
    private partial void LogReleased(string model, string device, string reason);
}

/// <summary>
/// Inference grain keys: "{model id}@{device}", or "{model id}@{silo}/{device}" for a device of one silo (the grain
/// is placed on the silo that first calls it, and only that silo's ingestion calls it).
/// </summary>
public static class DeviceKey
{
    public static string Format(string modelId, string device, string? silo = null) =>
        silo is null ? $"{modelId}@{device}" : $"{modelId}@{silo}/{device}";

    public static (string ModelId, string Device) Parse(string key)
    {
        int at = key.LastIndexOf('@');
        if (at <= 0 || at >= key.Length - 1)
        {
            throw new ArgumentException($"Inference grain key '{key}' is not '{{model}}@{{device}}'.", nameof(key));
        }

        string device = key[(at + 1)..];
        int slash = device.LastIndexOf('/');
        return (key[..at], slash >= 0 ? device[(slash + 1)..] : device);
    }
}

/// <summary>Chooses the device an image's tensor goes to.</summary>
public interface IDeviceRouter
{
    /// <summary>The inference grain key for one tensor prepared on the silo named <paramref name="silo"/>.</summary>
    string Pick(string modelId, string silo);
}

/// <summary>
/// Round robin over this silo's configured devices, each served by an inference grain of this silo, so that tensors
/// never leave the silo that prepared them (routing across silos comes with GPU placement).
/// </summary>
public sealed class LocalDeviceRouter(IOptions<InferenceOptions> options) : IDeviceRouter
{
    private int _next = -1;

    public string Pick(string modelId, string silo)
    {
        string[] devices = options.Value.Devices;
        int index = (int)((uint)Interlocked.Increment(ref _next) % (uint)devices.Length);
        return DeviceKey.Format(modelId, devices[index], silo);
    }
}
