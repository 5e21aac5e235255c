using ArtGrid.Hosting.Gateway;
using ArtGrid.GrainInterfaces;

namespace ArtGrid.Gateway;

/// <summary>The body of <c>PUT /models/{name}/active</c>.</summary>
public sealed record ActivateModelRequest(string? Version);

/// <summary>
/// Model versions over HTTP: <c>GET /models</c> (scope read) lists every model of the silos' repository (versions on
/// disk, the active one) and <c>PUT /models/{name}/active</c> (scope admin) switches the active version, cluster-wide
/// and without restarting a silo. Both go to the grains (<see cref="IModelRepositoryGrain"/>, <see cref="IModelCatalogGrain"/>).
/// </summary>
public static class ModelEndpoints
{
    public static IEndpointRouteBuilder MapArtGridModels(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder models = app.MapGroup("/models").RequireRateLimiting(GatewayHosting.RateLimitPolicy);
        models.MapGet("/", ListAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("ListModels").WithSummary("Every model of the repository: versions on disk and the active one")
            .Produces<ModelList>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(429);
        models.MapPut("/{name}/active", ActivateAsync)
            .RequireAuthorization(Scopes.Admin)
            .WithName("ActivateModel").WithSummary("Switches the active version of a model, cluster-wide")
            .Produces<ActiveModelVersion>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404)
            .ProducesProblem(422).ProducesProblem(429);
        return app;
    }

    /// <summary>The answer of <c>GET /models</c>.</summary>
    public sealed record ModelList(IReadOnlyList<ModelListing> Models);

    private static async Task<IResult> ListAsync(IGrainFactory grains, CancellationToken cancellationToken) =>
        TypedResults.Ok(new ModelList(await grains.GetGrain<IModelRepositoryGrain>(0).ListAsync(cancellationToken)));

    // 200 with the active version once it is stored (silos pick it up within their refresh interval); 404 for a model or
    // version that is not on disk, 422 for one that does not load, 400 for a malformed request. The active version
    // is unchanged whenever the answer is not 200.
    private static async Task<IResult> ActivateAsync(string name, ActivateModelRequest? request, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request?.Version))
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, "The body must name the version: {\"version\":\"2\"}.");
        }

        try
        {
            return TypedResults.Ok(await grains.GetGrain<IModelCatalogGrain>(name).ActivateAsync(request.Version, cancellationToken));
        }
        catch (ModelVersionException ex)
        {
            ProblemType problem = ex.Code switch
            {
                ModelVersionException.NotFound => GatewayProblems.ModelNotFound,
                ModelVersionException.BadName => GatewayProblems.InvalidRequest,
                _ => GatewayProblems.ModelInvalid,
            };
            return GatewayProblems.Result(problem, ex.Message, extensions: new Dictionary<string, object?> { ["modelCode"] = ex.Code });
        }
    }
}
