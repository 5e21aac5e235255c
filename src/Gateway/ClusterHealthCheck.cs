using ArtGrid.GrainInterfaces;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ArtGrid.Gateway;

/// <summary>Ready only while a silo of the cluster answers a grain call (the intake status, the cheapest there is) within 5 s.</summary>
internal sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            IntakeStatus status = await grains.GetGrain<IIntakeStatusGrain>(0).GetAsync(timeout.Token);
            return HealthCheckResult.Healthy(status.Closed ? "a silo answers; every device is saturated" : "a silo answers");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"no silo answered: {ex.GetType().Name}");
        }
    }
}
