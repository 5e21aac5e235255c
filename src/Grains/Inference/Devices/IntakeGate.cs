using Microsoft.Extensions.Options;

namespace ArtGrid.Grains.Inference.Devices;

/// <summary>
/// Holds new work back while the devices are saturated (<see cref="IDeviceRouter.AllSaturated"/> at
/// <see cref="InferenceOptions.PauseIntakeQueueBatches"/>). A bus consumer waits here before it starts a job: its
/// concurrency slot stays taken, so the transport stops delivering beyond its prefetch and the backlog waits in the
/// broker, not in the silo's memory.
/// </summary>
public sealed class IntakeGate(IDeviceRouter router, IOptions<InferenceOptions> options, TimeProvider time)
{
    /// <summary>How often a held intake looks again.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    private long _waits;

    /// <summary>Whether intake is held now.</summary>
    public bool Closed => router.AllSaturated(options.Value.PauseIntakeQueueBatches);

    /// <summary>How many times intake has had to wait, since the silo started.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>Returns at once when the devices have room; otherwise when they do.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken = default)
    {
        if (!Closed)
        {
            return;
        }

        Interlocked.Increment(ref _waits);
        while (Closed)
        {
            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }
}
