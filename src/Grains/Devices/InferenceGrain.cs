using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using ArtGrid.Inference.Devices;
using ArtGrid.Inference.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace ArtGrid.Grains.Devices;

/// <summary>
/// Inference pinned to one device, keyed "{model}@{silo}/{device}" and placed on that silo only
/// (<see cref="DevicePlacement"/>). Reentrant, so that concurrent requests meet in its
/// <see cref="DynamicBatcher{TIn,TOut}"/>; the model runs on the batcher's thread-pool loop, never on the grain
/// scheduler. Activation loads the model on the device (an ONNX Runtime session for cpu:N and cuda:N, a
/// <see cref="SimulatedDevice"/> for sim:N) and runs the batch sizes <see cref="InferenceOptions.Warmup"/> names, so
/// the first real request of each size does not pay for them. It holds its session while active and releases it when
/// deactivated; once its model version is no longer the active one it asks to be deactivated as soon as it is idle
/// (checked every <see cref="InactiveCheckPeriod"/>), so that a switched-away version unloads without waiting for idle
/// collection.
/// </summary>
[Reentrant]
[DevicePlacement]
public sealed partial class InferenceGrain(
    ModelSessions models,
    ActiveVersions activeVersions,
    DeviceInventory inventory,
    LocalDevices localDevices,
    ILocalSiloDetails localSilo,
    IOptions<InferenceOptions> options,
    ArtGridInstruments instruments,
    TimeProvider time,
    ILogger<InferenceGrain> logger)
    : Grain, IInferenceGrain
{
    /// <summary>How often an inference grain checks that its model version is still the active one.</summary>
    public static readonly TimeSpan InactiveCheckPeriod = TimeSpan.FromSeconds(15);

    private DynamicBatcher<float[], ModelScore>? _batcher;
    private DeviceKey _key;
    private string _location = "";
    private bool _simulated;
    private bool _holdsSession;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        string key = this.GetPrimaryKeyString();
        _key = DeviceKey.Parse(key);
        if (_key.Silo != localSilo.Name)
        {
            throw new DeviceUnavailableException(key, $"it belongs to silo '{_key.Silo}', and this is '{localSilo.Name}'");
        }

        if (!inventory.Contains(_key.Device))
        {
            throw new DeviceUnavailableException(key, $"silo '{localSilo.Name}' does not serve {_key.Device} (its devices: {(inventory.Devices.Count == 0 ? "none" : inventory.Advertised)})");
        }

        _location = new SiloDevice(localSilo.Name, _key.Device).ToString();
        InferenceOptions settings = options.Value;
        Func<IReadOnlyList<float[]>, ModelScore[]> score;
        int inputLength;
        if (_key.Device.Kind == DeviceKind.Sim)
        {
            LoadedModel model = models.GetModel(_key.ModelId);
            var device = new SimulatedDevice(model.Input.ElementCount, settings.Simulated);
            (score, inputLength, _simulated) = (device.Score, device.InputLength, true);
        }
        else
        {
            // Creating the session runs one blank image through it, which checks the outputs against the config.
            OnnxModelSession session = await Task.Run(() => models.AcquireSession(_key.ModelId, _key.Device.ToString()), cancellationToken);
            _holdsSession = true;
            (score, inputLength) = (session.Score, session.Input.ElementCount);
        }

        int[] warmup = WarmupSizes(settings, _key.Device.Kind);
        TimeSpan warmupTime = await Task.Run(() => Warm(score, inputLength, warmup), cancellationToken);
        string location = _location;
        _batcher = new DynamicBatcher<float[], ModelScore>(
            location,
            new BatchingOptions(settings.MaxBatchSize, TimeSpan.FromMilliseconds(settings.MaxQueueDelayMs), settings.QueueCapacity, settings.PreferredBatchSizes),
            score,
            time,
            (size, compute) => instruments.BatchRan(location, size, compute));
        DynamicBatcher<float[], ModelScore> batcher = _batcher;
        localDevices.Register(key, () => batcher.Held);
        this.RegisterGrainTimer(DeactivateIfInactiveAsync, InactiveCheckPeriod, InactiveCheckPeriod);
        LogActivated(_key.ModelId, location, settings.MaxBatchSize, settings.QueueCapacity, warmup.Length, warmupTime.TotalMilliseconds);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_batcher is not null)
        {
            localDevices.Unregister(this.GetPrimaryKeyString());
            // Finishes what is queued before the session goes.
            await _batcher.DisposeAsync();
            _batcher = null;
            if (_holdsSession)
            {
                models.ReleaseSession(_key.ModelId, _key.Device.ToString());
                _holdsSession = false;
            }

            LogReleased(_key.ModelId, _location, reason.Description);
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
            instruments.Rejected(_location);
            throw;
        }

        BatchedResult<ModelScore> result = await queued;

        instruments.Dequeued(_location, result.QueueDelay);
        return new InferenceResult(result.Value.AiProbability, result.QueueDelay.TotalMilliseconds, result.Compute.TotalMilliseconds, result.BatchSize, result.Value.Map)
        {
            Device = _location,
            DevicePending = batcher.Held,
            Simulated = _simulated,
            Generator = result.Value.Generator,
        };
    }

    /// <summary>The batch sizes a device of <paramref name="kind"/> runs at activation.</summary>
    public static int[] WarmupSizes(InferenceOptions settings, DeviceKind kind) => settings.Warmup switch
    {
        BatchWarmup.Every => [.. Enumerable.Range(1, settings.MaxBatchSize)],
        BatchWarmup.Largest => [settings.MaxBatchSize],
        BatchWarmup.None => [],
        _ => kind == DeviceKind.Cpu ? [settings.MaxBatchSize] : [.. Enumerable.Range(1, settings.MaxBatchSize)],
    };

    private static TimeSpan Warm(Func<IReadOnlyList<float[]>, ModelScore[]> score, int inputLength, int[] sizes)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var blank = new float[inputLength];
        foreach (int size in sizes)
        {
            score(Enumerable.Repeat(blank, size).ToArray());
        }

        return System.Diagnostics.Stopwatch.GetElapsedTime(start);
    }

    // Requests still on their way to an inactive version (jobs that resolved it before the switch) are served: Orleans
    // deactivates the grain only once it is idle, and a request arriving later activates it again.
    private async Task DeactivateIfInactiveAsync(CancellationToken cancellationToken)
    {
        string modelId = _key.ModelId;
        int slash = modelId.IndexOf('/', StringComparison.Ordinal);
        string active;
        try
        {
            active = slash > 0 ? await activeVersions.ModelIdAsync(modelId[..slash], cancellationToken) : modelId;
        }
        catch (ModelVersionException)
        {
            return; // the catalog has no active version of this model: nothing better to switch to, stay loaded
        }

        if (active != modelId)
        {
            LogInactive(modelId, _location);
            this.DeactivateOnIdle();
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Inference for {Model} on {Device} ready (max batch {MaxBatch}, queue {Queue}; {WarmupSizes} batch sizes warmed up in {WarmupMs:0} ms)")]
    private partial void LogActivated(string model, string device, int maxBatch, int queue, int warmupSizes, double warmupMs);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Inference for {Model} on {Device} is no longer the active version; unloading when idle")]
    private partial void LogInactive(string model, string device);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Inference for {Model} on {Device} released its session ({Reason})")]
    private partial void LogReleased(string model, string device, string reason);
}
