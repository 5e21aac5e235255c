namespace ArtGrid.GrainInterfaces;

/// <summary>
/// Thrown when a device's inference grain cannot be placed: the silo that owns the device is not an active member of
/// the cluster, or does not serve that device. Callers route to another device.
/// </summary>
[GenerateSerializer, Alias("artgrid.DeviceUnavailableException")]
public sealed class DeviceUnavailableException : Exception
{
    public DeviceUnavailableException(string deviceKey, string reason)
        : base($"Device {deviceKey} is unavailable: {reason}")
    {
        DeviceKey = deviceKey;
    }

    [Id(0)]
    public string DeviceKey { get; }
}
