using ArtGrid.Abstractions;

namespace ArtGrid.Gateway;

/// <summary>A job as posted over HTTP: images inline as base64.</summary>
public sealed record PostJobRequest(string? JobId, IReadOnlyList<PostImage> Images, JobMetadata? Metadata);

public sealed record PostImage(string Name, string Base64);

public static class JobEndpoints
{
    /// <summary>Connects to the cluster as an Orleans client ("ArtGrid:Gateway:OrleansGatewayPort", default 30000, localhost clustering).</summary>
    public static WebApplicationBuilder AddArtGridClusterClient(this WebApplicationBuilder builder)
    {
        int port = builder.Configuration.GetValue("ArtGrid:Gateway:OrleansGatewayPort", 30000);
        builder.UseOrleansClient(client => client.UseLocalhostClustering(port, serviceId: "artgrid", clusterId: "artgrid"));
        return builder;
    }

    public static WebApplication MapArtGridJobs(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));

        app.MapPost("/v1/jobs", async (PostJobRequest request, IGrainFactory grains, CancellationToken cancellationToken) =>
        {
            if (request.Images is not { Count: > 0 })
            {
                return Results.BadRequest(new { error = "A job needs at least one image." });
            }

            var images = new List<ImageRef>(request.Images.Count);
            foreach (PostImage image in request.Images)
            {
                byte[] bytes;
                try
                {
                    bytes = Convert.FromBase64String(image.Base64);
                }
                catch (FormatException)
                {
                    return Results.BadRequest(new { error = $"Image '{image.Name}' is not valid base64." });
                }

                images.Add(ImageRef.FromBytes(image.Name, bytes));
            }

            string jobId = string.IsNullOrWhiteSpace(request.JobId) ? Guid.NewGuid().ToString("N") : request.JobId;
            var job = new ScoreJob(jobId, images, request.Metadata ?? JobMetadata.None);
            JobVerdict verdict = await grains.GetGrain<IJobGrain>(jobId).ScoreAsync(job, cancellationToken);
            return Results.Ok(verdict);
        });

        app.MapGet("/v1/jobs/{id}", async (string id, IGrainFactory grains, CancellationToken cancellationToken) =>
            await grains.GetGrain<IJobGrain>(id).GetVerdictAsync(cancellationToken) is { } verdict
                ? Results.Ok(verdict)
                : Results.NotFound());
        return app;
    }
}
