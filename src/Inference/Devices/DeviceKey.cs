namespace ArtGrid.Inference.Devices;

/// <summary>
/// An inference grain's key: "{model id}@{silo}/{device}", a device of one silo (the grain is placed on that silo and
/// nowhere else).
/// </summary>
public readonly record struct DeviceKey(string ModelId, string Silo, DeviceId Device)
{
    public override string ToString() => $"{ModelId}@{Silo}/{Device}";

    /// <summary>Where the device is, without the model: "{silo}/{device}".</summary>
    public string Location => new SiloDevice(Silo, Device).ToString();

    public static string Format(string modelId, string device, string silo) =>
        new DeviceKey(modelId, silo, DeviceId.Parse(device)).ToString();

    /// <exception cref="ArgumentException">The key is not "{model}@{silo}/{device}".</exception>
    public static DeviceKey Parse(string key)
    {
        int at = key.LastIndexOf('@');
        if (at <= 0 || at >= key.Length - 1)
        {
            throw new ArgumentException($"Inference grain key '{key}' is not '{{model}}@{{silo}}/{{device}}'.", nameof(key));
        }

        string location = key[(at + 1)..];
        int slash = location.LastIndexOf('/');
        if (slash <= 0)
        {
            throw new ArgumentException($"Inference grain key '{key}' names no silo: it is not '{{model}}@{{silo}}/{{device}}'.", nameof(key));
        }

        if (!DeviceId.TryParse(location[(slash + 1)..], out DeviceId id))
        {
            throw new ArgumentException($"Inference grain key '{key}' does not end in a device (cpu:N, cuda:N, sim:N).", nameof(key));
        }

        return new DeviceKey(key[..at], location[..slash], id);
    }
}
