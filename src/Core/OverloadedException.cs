namespace ArtGrid;

/// <summary>
/// Thrown when a device's bounded queue is full. The request was not accepted; retry after <see cref="RetryAfter"/>.
/// </summary>
[GenerateSerializer, Alias("artgrid.OverloadedException")]
public sealed class OverloadedException : Exception
{
    public OverloadedException(string device, int queueCapacity, TimeSpan retryAfter)
        : base($"Device {device} is saturated: its queue of {queueCapacity} is full. Retry after {retryAfter.TotalMilliseconds:0} ms.")
    {
        Device = device;
        QueueCapacity = queueCapacity;
        RetryAfter = retryAfter;
    }

    [Id(0)]
    public string Device { get; }

    [Id(1)]
    public int QueueCapacity { get; }

    [Id(2)]
    public TimeSpan RetryAfter { get; }
}
