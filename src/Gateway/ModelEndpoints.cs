using ArtGrid.GrainInterfaces;

namespace ArtGrid.Gateway;

/// <summary>The body of <c>PUT /models/{name}/active</c>.</summary>
public sealed record ActivateModelRequest(string? Version);

/// <summary>
/// Model versions over HTTP: <c>GET /models</c> lists every model of the silos' repository (versions on disk, the active
/// one) and <c>PUT /models/{name}/active</c> switches the active version, cluster-wide and without restarting a silo.
/// Both go to the grains (<see cref="IModelRepositoryGrain"/>, <see cref="IModelCatalogGrain"/>), in either gateway mode.
/// </summary>
public static class ModelEndpoints
{
    public static WebApplication MapArtGridModels(this WebApplication app)
    {
        app.MapGet("/models", ListAsync);
        app.MapPut("/models/{name}/active", ActivateAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(IGrainFactory grains, CancellationToken cancellationToken) =>
        Results.Ok(new { models = await grains.GetGrain<IModelRepositoryGrain>(0).ListAsync(cancellationToken) });

    // 200 with the active version once it is stored (silos pick it up within their refresh interval); 404 for a model or
    // version that is not on disk, 422 for one that does not load, 400 for a malformed request. The active version
    // is unchanged whenever the answer is not 200.
    private static async Task<IResult> ActivateAsync(string name, ActivateModelRequest? request, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request?.Version))
        {
            return Results.BadRequest(new { error = "The body must name the version: {\"version\":\"2\"}.", code = ModelVersionException.BadName });
        }

        try
        {
            return Results.Ok(await grains.GetGrain<IModelCatalogGrain>(name).ActivateAsync(request.Version, cancellationToken));
        }
        catch (ModelVersionException ex)
        {
            var problem = new { error = ex.Message, code = ex.Code };
            return ex.Code switch
            {
                ModelVersionException.NotFound => Results.NotFound(problem),
                ModelVersionException.BadName => Results.BadRequest(problem),
                _ => Results.UnprocessableEntity(problem),
            };
        }
    }
}
