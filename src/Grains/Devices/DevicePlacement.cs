using ArtGrid.GrainInterfaces;
using ArtGrid.Inference.Devices;
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace ArtGrid.Grains.Devices;

/// <summary>
/// Places an inference grain keyed "{model}@{silo}/{device}" on the silo named in its key, and nowhere else: a device
/// belongs to one node. A key without a silo ("{model}@{device}") is placed on the calling silo.
/// </summary>
[Serializable, GenerateSerializer, Immutable, Alias("artgrid.DevicePlacement")]
public sealed class DevicePlacement : PlacementStrategy
{
    internal static DevicePlacement Singleton { get; } = new();
}

/// <summary>Marks a grain class as pinned to the device its key names (see <see cref="DevicePlacement"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DevicePlacementAttribute() : PlacementAttribute(DevicePlacement.Singleton);

/// <summary>
/// Finds the active silo whose name the key carries. When that silo has left the cluster (or never joined), placement
/// fails with <see cref="DeviceUnavailableException"/>: the caller's router marks the device down and picks another,
/// instead of the grain quietly activating on a silo that does not have the device.
/// </summary>
public sealed class DevicePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString() ?? "";
        SiloAddress[] compatible = context.GetCompatibleSilos(target);
        DeviceKey parsed = DeviceKey.Parse(key);
        foreach (ClusterMember member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && string.Equals(member.Name, parsed.Silo, StringComparison.Ordinal) && compatible.Contains(member.SiloAddress))
            {
                return Task.FromResult(member.SiloAddress);
            }
        }

        throw new DeviceUnavailableException(key, $"silo '{parsed.Silo}' is not an active member of the cluster");
    }
}
