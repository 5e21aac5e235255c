using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ArtGrid.Hosting.Operations;

/// <summary>
/// The cluster's active version of the model this silo scores with (<see cref="ActiveVersions"/>, from the model
/// catalog) is loaded on this silo: its configuration, head and graph read from this silo's repository and checked
/// (<see cref="ModelSessions.GetModel"/>, kept for the sessions its devices build). The first check does the load, so
/// a silo whose repository lacks the active version, or holds a broken copy, never becomes ready. The description also
/// lists the device sessions open now (none until the first batch, and again once idle grains are collected).
/// </summary>
internal sealed class ActiveModelHealthCheck(ActiveVersions activeVersions, ModelSessions sessions) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string name = activeVersions.ScoringModel;
        string modelId;
        try
        {
            modelId = await activeVersions.ModelIdAsync(name, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"the active version of {name} is unknown: {ex.Message}");
        }

        try
        {
            LoadedModel model = await Task.Run(() => sessions.GetModel(modelId), cancellationToken);
            string[] open = [.. sessions.LoadedSessions.Where(s => s.StartsWith(model.Id + "@", StringComparison.Ordinal))];
            return HealthCheckResult.Healthy(
                $"{model.Id} is active and loaded; device sessions: {(open.Length == 0 ? "none open" : string.Join(", ", open))}",
                new Dictionary<string, object> { ["model"] = model.Id });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"the active version {modelId} does not load on this silo: {ex.Message}");
        }
    }
}
