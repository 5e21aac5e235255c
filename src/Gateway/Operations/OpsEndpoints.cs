using ArtGrid.Hosting.Gateway;
using ArtGrid.Hosting.Operations;

namespace ArtGrid.Gateway.Operations;

/// <summary>
/// <c>GET /v1/ops</c> (scope admin): the operations view of the cluster (<see cref="OpsView"/>): throughput, the job
/// queue's depth and age, the error queue, decode failures by code, the cache's hit rate, and the silos with their
/// devices. 503 when Redis, where the silos leave their snapshots, cannot be reached.
/// </summary>
public static class OpsEndpoints
{
    public static IEndpointRouteBuilder MapArtGridOps(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").RequireRateLimiting(GatewayHosting.RateLimitPolicy)
            .MapGet("/ops", ReadAsync)
            .RequireAuthorization(Scopes.Admin)
            .WithName("GetOps").WithSummary("The cluster's operations view: throughput, queues, decode failures, cache, silos and devices")
            .Produces<OpsView>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(429).ProducesProblem(503);
        return app;
    }

    internal static IServiceCollection AddArtGridOps(this IServiceCollection services, Uri rabbitMq)
    {
        services.AddSingleton(new BrokerQueues(rabbitMq));
        services.AddSingleton<OpsReader>();
        return services;
    }

    private static async Task<IResult> ReadAsync(OpsReader reader, CancellationToken cancellationToken) =>
        TypedResults.Ok(await reader.ReadAsync(cancellationToken));
}
