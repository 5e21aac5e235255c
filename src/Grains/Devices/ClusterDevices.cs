using ArtGrid.Inference.Devices;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace ArtGrid.Grains.Devices;

/// <summary>
/// The cluster's devices as this silo sees them: its own inventory, and what every other active silo advertises in
/// its silo metadata (<see cref="DeviceInventory.MetadataKey"/>). Membership decides who is in: a silo that leaves
/// drops out of <see cref="Remote"/> as soon as the membership snapshot says so.
/// </summary>
public sealed class ClusterDevices(
    IClusterMembershipService membership,
    ISiloMetadataCache metadata,
    ILocalSiloDetails localSilo,
    DeviceInventory inventory,
    TimeProvider time)
{
    // Metadata arrives a little after membership (it is fetched from each new silo), so the list is rebuilt on a
    // membership change and at least this often.
    private static readonly TimeSpan RefreshPeriod = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private IReadOnlyList<SiloDevice> _remote = [];
    private MembershipVersion _version = MembershipVersion.MinValue;
    private long _builtAt = long.MinValue;

    /// <summary>This silo's name, as keys and membership carry it.</summary>
    public string LocalSilo => localSilo.Name;

    /// <summary>This silo's devices.</summary>
    public IReadOnlyList<DeviceId> Local => inventory.Devices;

    /// <summary>The devices of the other active silos.</summary>
    public IReadOnlyList<SiloDevice> Remote
    {
        get
        {
            ClusterMembershipSnapshot snapshot = membership.CurrentSnapshot;
            long now = time.GetTimestamp();
            lock (_lock)
            {
                if (snapshot.Version != _version || time.GetElapsedTime(_builtAt, now) > RefreshPeriod)
                {
                    _remote = Build(snapshot);
                    _version = snapshot.Version;
                    _builtAt = now;
                }

                return _remote;
            }
        }
    }

    private SiloDevice[] Build(ClusterMembershipSnapshot snapshot) =>
        [.. snapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && !m.SiloAddress.Equals(localSilo.SiloAddress))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .SelectMany(m => DeviceInventory.ParseAdvertised(metadata.GetSiloMetadata(m.SiloAddress).Metadata.GetValueOrDefault(DeviceInventory.MetadataKey))
                .Select(d => new SiloDevice(m.Name, d)))];
}
