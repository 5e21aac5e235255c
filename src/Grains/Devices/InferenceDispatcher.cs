using ArtGrid.GrainInterfaces;
using ArtGrid.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace ArtGrid.Grains.Devices;

/// <summary>
/// Sends one tensor to a device the router picks, and copes with the cluster moving under it: a full queue is
/// backpressure (wait as long as the device says, then pick again, so a saturated device's load spills to others); a
/// device whose silo left is marked down and the tensor goes to another at once (inference is a pure function, so
/// asking again never scores anything twice in effect); a timeout is asked again a few times, because the first calls
/// to a device wait for its activation, which loads the model and warms every batch size up.
/// </summary>
public sealed partial class InferenceDispatcher(
    IGrainFactory grains,
    IDeviceRouter router,
    IOptions<InferenceOptions> options,
    ILogger<InferenceDispatcher> logger)
{
    private const int MaxTimeouts = 3;
    private const int MaxReroutes = 16;

    public async Task<InferenceResult> InferAsync(string modelId, float[] tensor, CancellationToken cancellationToken = default)
    {
        HashSet<string>? avoid = null;
        for (int overloads = 0, timeouts = 0, reroutes = 0; ;)
        {
            DeviceRoute route = router.Pick(modelId, avoid);
            router.Sent(route);
            int? pending = null;
            TimeSpan? retryAfter = null;
            try
            {
                InferenceResult result = await grains.GetGrain<IInferenceGrain>(route.Key).InferAsync(tensor.AsImmutable(), cancellationToken);
                pending = result.DevicePending;
                return result;
            }
            catch (OverloadedException ex) when (overloads++ < options.Value.MaxOverloadRetries)
            {
                (pending, retryAfter) = (ex.QueueCapacity, ex.RetryAfter);
            }
            catch (Exception ex) when (IsUnreachable(ex) && reroutes++ < MaxReroutes && !cancellationToken.IsCancellationRequested)
            {
                LogRerouted(route.Key, ex.GetType().Name, ex.Message);
                router.MarkDown(route);
                (avoid ??= new HashSet<string>(StringComparer.Ordinal)).Add(route.Key);
            }
            catch (TimeoutException) when (++timeouts <= MaxTimeouts && !cancellationToken.IsCancellationRequested)
            {
                LogTimedOut(route.Key, timeouts);
            }
            finally
            {
                router.Returned(route, pending);
            }

            // Waited out after the request is returned, so that the device does not count it as in flight meanwhile.
            if (retryAfter is TimeSpan wait)
            {
                await Task.Delay(wait, cancellationToken);
            }
        }
    }

    /// <summary>Failures that say the device's silo is gone or not the device's, not that inference failed.</summary>
    public static bool IsUnreachable(Exception ex) =>
        ex is DeviceUnavailableException or SiloUnavailableException or OrleansMessageRejectionException
            || (ex is OrleansException && ex.InnerException is not null && IsUnreachable(ex.InnerException));

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "Device {Device} is unreachable ({Error}: {Message}); routing to another")]
    private partial void LogRerouted(string device, string error, string message);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "Inference on {Device} timed out (time {Timeouts}); asking again")]
    private partial void LogTimedOut(string device, int timeouts);
}
