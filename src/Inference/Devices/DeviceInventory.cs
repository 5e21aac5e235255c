using Microsoft.Extensions.Configuration;

namespace ArtGrid.Inference.Devices;

/// <summary>
/// The devices one silo serves, read once from "ArtGrid:Inference:Devices" when the silo is built: the silo advertises
/// them to the cluster (silo metadata <see cref="MetadataKey"/>) and places an inference grain on itself for each.
/// </summary>
public sealed class DeviceInventory
{
    /// <summary>The silo metadata key under which a silo advertises its devices, comma-separated.</summary>
    public const string MetadataKey = "artgrid.devices";

    public DeviceInventory(IReadOnlyList<DeviceId> devices)
    {
        var seen = new HashSet<DeviceId>();
        foreach (DeviceId device in devices)
        {
            if (!seen.Add(device))
            {
                throw new ArgumentException($"Device {device} is listed twice in {InferenceOptions.SectionName}:Devices.", nameof(devices));
            }
        }

        Devices = [.. devices];
    }

    /// <summary>This silo's devices, in configuration order.</summary>
    public IReadOnlyList<DeviceId> Devices { get; }

    /// <summary>The value advertised under <see cref="MetadataKey"/>.</summary>
    public string Advertised => string.Join(',', Devices);

    public bool Contains(DeviceId device) => Devices.Contains(device);

    /// <summary>
    /// Parses configured device names; "cuda:all" stands for every GPU <paramref name="gpuIndices"/> lists (none on a node
    /// without GPUs, which then serves only its other devices).
    /// </summary>
    /// <exception cref="FormatException">An entry is not a device; the message names it.</exception>
    public static DeviceInventory Parse(IEnumerable<string> configured, Func<IReadOnlyList<int>> gpuIndices)
    {
        var devices = new List<DeviceId>();
        foreach (string entry in configured)
        {
            if (string.Equals(entry.Trim(), "cuda:all", StringComparison.OrdinalIgnoreCase))
            {
                devices.AddRange(gpuIndices().Select(i => new DeviceId(DeviceKind.Cuda, i)));
                continue;
            }

            devices.Add(DeviceId.Parse(entry.Trim()));
        }

        return new DeviceInventory(devices);
    }

    /// <summary>The inventory a silo configured with <paramref name="configuration"/> serves (the default, "cpu:0", when the key is absent).</summary>
    public static DeviceInventory FromConfiguration(IConfiguration configuration, Func<IReadOnlyList<int>> gpuIndices)
    {
        IConfigurationSection section = configuration.GetSection(InferenceOptions.SectionName).GetSection(nameof(InferenceOptions.Devices));
        string[] configured = section.Exists() ? section.Get<string[]>() ?? [] : new InferenceOptions().Devices;
        return Parse(configured, gpuIndices);
    }

    /// <summary>Reads an advertised value back; unknown entries are skipped (a newer silo may know more kinds).</summary>
    public static IReadOnlyList<DeviceId> ParseAdvertised(string? advertised) =>
        string.IsNullOrEmpty(advertised)
            ? []
            : [.. advertised.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(e => DeviceId.TryParse(e, out DeviceId d) ? d : (DeviceId?)null)
                .OfType<DeviceId>()];
}
