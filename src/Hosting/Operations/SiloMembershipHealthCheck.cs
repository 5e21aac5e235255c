using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ArtGrid.Hosting.Operations;

/// <summary>
/// This silo is an Active member of its cluster, as its own membership view says: not while it joins, and not once it
/// is shutting down or has been declared dead (a silo that lost its membership must not take work).
/// </summary>
internal sealed class SiloMembershipHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ClusterMembershipSnapshot snapshot = membership.CurrentSnapshot;
        SiloStatus status = snapshot.GetSiloStatus(silo.SiloAddress);
        int active = snapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);
        string description = $"{silo.Name} ({silo.SiloAddress}) is {status}; {active} active silo(s) in cluster {silo.ClusterId}";
        return Task.FromResult(status == SiloStatus.Active ? HealthCheckResult.Healthy(description) : HealthCheckResult.Unhealthy(description));
    }
}
