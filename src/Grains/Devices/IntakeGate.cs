using ArtGrid.Inference;
using Microsoft.Extensions.Options;

namespace ArtGrid.Grains.Devices;

/// <summary>
/// Holds new work back while the devices are saturated (<see cref="IDeviceRouter.AllSaturated"/> at
/// <see cref="InferenceOptions.PauseIntakeQueueBatches"/>). A bus consumer waits here before it starts a job: its
/// concurrency slot stays taken, so the transport stops delivering beyond its prefetch and the backlog waits in the
/// broker, not in the silo's memory. However many wait, one loop looks again every <see cref="PollInterval"/> and
/// lets them all go when the devices have room; the answer is kept for a millisecond, so that a busy silo does not
/// add every device's load up once per job.
/// </summary>
public sealed class IntakeGate(IDeviceRouter router, IOptions<InferenceOptions> options, TimeProvider time)
{
    /// <summary>How often a held intake looks again.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan AnswerLifetime = TimeSpan.FromMilliseconds(1);

    private readonly Lock _lock = new();
    private TaskCompletionSource? _opened;
    private long _waits;
    private long _checkedAt = long.MinValue;
    private bool _closed;

    /// <summary>Whether intake is held now.</summary>
    public bool Closed
    {
        get
        {
            long now = time.GetTimestamp();
            lock (_lock)
            {
                if (_checkedAt == long.MinValue || time.GetElapsedTime(_checkedAt, now) > AnswerLifetime)
                {
                    _closed = router.AllSaturated(options.Value.PauseIntakeQueueBatches);
                    _checkedAt = now;
                }

                return _closed;
            }
        }
    }

    /// <summary>How many times intake has had to wait, since the silo started.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>Returns at once when the devices have room; otherwise when they do.</summary>
    public Task WaitAsync(CancellationToken cancellationToken = default)
    {
        if (!Closed)
        {
            return Task.CompletedTask;
        }

        Interlocked.Increment(ref _waits);
        TaskCompletionSource opened;
        lock (_lock)
        {
            if (_opened is null)
            {
                // Kept in a local: the loop may find room at its first look and clear _opened before it returns.
                opened = _opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _ = WatchAsync(opened);
            }
            else
            {
                opened = _opened;
            }
        }

        return opened.Task.WaitAsync(cancellationToken);
    }

    private async Task WatchAsync(TaskCompletionSource opened)
    {
        try
        {
            while (Closed)
            {
                await Task.Delay(PollInterval, time);
            }
        }
        finally
        {
            lock (_lock)
            {
                _opened = null;
            }

            opened.TrySetResult();
        }
    }
}
