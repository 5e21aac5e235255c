using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ArtGrid.Gateway;

/// <summary>A job as posted over HTTP: images inline as base64.</summary>
public sealed record PostJobRequest(string? JobId, IReadOnlyList<PostImage> Images, JobMetadata? Metadata);

public sealed record PostImage(string Name, string Base64);

public static class JobEndpoints
{
    /// <summary>
    /// With "ConnectionStrings:Redis" and "ConnectionStrings:RabbitMq" set, the gateway joins the cluster as an Orleans
    /// client through Redis clustering and sends jobs over the bus; without them it is a client of a localhost silo
    /// ("ArtGrid:Gateway:OrleansGatewayPort", default 30000) and calls the job grains directly.
    /// </summary>
    public static WebApplicationBuilder AddArtGridGateway(this WebApplicationBuilder builder)
    {
        IConfiguration configuration = builder.Configuration;
        string serviceId = configuration.GetValue("ArtGrid:Silo:ServiceId", "artgrid")!;
        string clusterId = configuration.GetValue("ArtGrid:Silo:ClusterId", "artgrid")!;
        if (configuration.GetConnectionString("Redis") is not { Length: > 0 })
        {
            int port = configuration.GetValue("ArtGrid:Gateway:OrleansGatewayPort", 30000);
            builder.UseOrleansClient(client => client.UseLocalhostClustering(port, serviceId: serviceId, clusterId: clusterId));
            return builder;
        }

        RedisConnection redis = builder.Services.AddArtGridRedis(configuration);
        builder.UseOrleansClient(client =>
        {
            client.Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ServiceId = serviceId;
                o.ClusterId = clusterId;
            });
            client.UseRedisClustering(o =>
            {
                o.ConfigurationOptions = redis.Options;
                o.CreateMultiplexer = async _ => (await redis.GetAsync(), true);
            });
        });
        Uri rabbitMq = configuration.RabbitMqAddress();
        builder.Services.AddMassTransit(bus => bus.UsingRabbitMq((context, rabbit) =>
            rabbit.UseArtGrid(rabbitMq, context.GetRequiredService<IMessageDataRepository>())));
        return builder;
    }

    public static WebApplication MapArtGridJobs(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));
        app.MapPost("/v1/jobs", PostJobAsync);
        app.MapGet("/v1/jobs/{id}", GetJobAsync);
        return app;
    }

    // POST /v1/jobs[?wait=true]. Over the bus: 202 with the job's address, or the verdict when waiting. Without a bus:
    // the job grain scores it and the verdict is the answer.
    private static async Task<IResult> PostJobAsync(PostJobRequest request, bool? wait, IServiceProvider services, CancellationToken cancellationToken)
    {
        string jobId = string.IsNullOrWhiteSpace(request.JobId) ? NewId.NextGuid().ToString("N") : request.JobId;
        if (ScoreImagesValidator.ValidateShape(jobId, request.Images?.Count ?? 0) is { } problem)
        {
            // Refused before anything is decoded or uploaded.
            return Results.BadRequest(new { error = problem });
        }

        var images = new List<(string Name, byte[] Bytes)>(request.Images!.Count);
        foreach (PostImage image in request.Images)
        {
            try
            {
                images.Add((image.Name, Convert.FromBase64String(image.Base64)));
            }
            catch (FormatException)
            {
                return Results.BadRequest(new { error = $"Image '{image.Name}' is not valid base64." });
            }
        }

        JobMetadata metadata = request.Metadata ?? JobMetadata.None;
        if (services.GetService<IBus>() is not { } bus)
        {
            var job = new ScoreJob(jobId, [.. images.Select(i => ImageRef.FromBytes(i.Name, i.Bytes))], metadata);
            return Results.Ok(await services.GetRequiredService<IGrainFactory>().GetGrain<IJobGrain>(jobId).ScoreAsync(job, cancellationToken));
        }

        IMessageDataRepository repository = services.GetRequiredService<IMessageDataRepository>();
        var references = new ImageReference[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            references[i] = new ImageReference { Name = images[i].Name, Data = await repository.PutBytes(images[i].Bytes, cancellationToken) };
        }

        var command = new ScoreImages { JobId = jobId, Images = references, Metadata = metadata, SubmittedAt = DateTimeOffset.UtcNow };
        Uri queue = services.GetRequiredService<IOptions<BusOptions>>().Value.ScoreQueue();
        if (wait != true)
        {
            await (await bus.GetSendEndpoint(queue)).Send(command, cancellationToken);
            return Results.Accepted($"/v1/jobs/{Uri.EscapeDataString(jobId)}", new { jobId });
        }

        Response<ImagesScored, ScoreImagesRejected> response = await bus.CreateRequestClient<ScoreImages>(queue)
            .GetResponse<ImagesScored, ScoreImagesRejected>(command, cancellationToken);
        return response.Is(out Response<ImagesScored>? scored)
            ? Results.Ok(scored.Message.Verdict)
            : Results.UnprocessableEntity(response.Is(out Response<ScoreImagesRejected>? rejected) ? rejected.Message : null);
    }

    // GET /v1/jobs/{id}: the job record from Redis in the cluster, else the job grain's verdict.
    private static async Task<IResult> GetJobAsync(string id, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<RedisJobRecords>() is { } records)
        {
            return await records.GetAsync(id) is { } record ? Results.Ok(record) : Results.NotFound();
        }

        return await services.GetRequiredService<IGrainFactory>().GetGrain<IJobGrain>(id).GetVerdictAsync(cancellationToken) is { } verdict
            ? Results.Ok(verdict)
            : Results.NotFound();
    }
}
