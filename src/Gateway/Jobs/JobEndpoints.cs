using ArtGrid.Contracts;
using ArtGrid.GrainInterfaces;
using ArtGrid.Hosting.Gateway;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Hosting.Webhooks;
using ArtGrid.Imaging;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;

namespace ArtGrid.Gateway.Jobs;

/// <summary>
/// The moderation API's job routes: <c>POST /v1/score</c> (one image, the verdict in the answer), <c>POST /v1/jobs</c>
/// (1 to 64 images; 202 and the job's address, or the verdict within <c>?wait=</c>), <c>GET /v1/jobs/{id}</c> (one
/// schema in every state), <c>GET /v1/jobs/{id}/images/{index}/map.png</c> (the activation map as a layer to draw over the
/// image) and <c>GET /v1/authors/{id}</c> (the author's counts).
/// </summary>
public static partial class JobEndpoints
{
    public const int DefaultMapWidth = 224;
    public const int MaxMapWidth = 2048;

    public static IEndpointRouteBuilder MapArtGridJobs(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder v1 = app.MapGroup("/v1").RequireRateLimiting(GatewayHosting.RateLimitPolicy);
        v1.MapPost("/score", ScoreAsync)
            .RequireAuthorization(Scopes.Score)
            .WithName("Score").WithSummary("Scores one image and answers its verdict")
            .Accepts<ScoreRequest>("application/json", "multipart/form-data")
            .Produces<JobResource>(StatusCodes.Status200OK)
            .Produces<JobResource>(StatusCodes.Status202Accepted)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(409).ProducesProblem(413)
            .ProducesProblem(415).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        v1.MapPost("/jobs", PostJobAsync)
            .RequireAuthorization(Scopes.Score)
            .WithName("PostJob").WithSummary("Submits a job of 1 to 64 images")
            .Accepts<PostJobRequest>("application/json", "multipart/form-data")
            .Produces<JobResource>(StatusCodes.Status200OK)
            .Produces<JobResource>(StatusCodes.Status202Accepted)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(409).ProducesProblem(413)
            .ProducesProblem(415).ProducesProblem(429).ProducesProblem(503);
        v1.MapGet("/jobs/{id}", GetJobAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("GetJob").WithSummary("The job: status, timestamps, verdict or rejection, webhook delivery")
            .Produces<JobResource>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(429);
        v1.MapGet("/jobs/{id}/images/{index:int}/map.png", GetMapAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("GetActivationMap").WithSummary("The image's activation map: a transparent PNG layer to stretch over the image")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(429);
        v1.MapGet("/authors/{id}", GetAuthorAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("GetAuthor").WithSummary("What the cluster has seen of one author")
            .Produces<AuthorContext>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(429);
        return app;
    }

    // POST /v1/jobs[?wait=SECONDS|true]: 202 + Location at once, or within the wait the finished job (200); a job not
    // finished in time is answered 202 all the same, and goes on.
    private static async Task<IResult> PostJobAsync(HttpRequest request, string? wait, GatewayServices services, CancellationToken cancellationToken)
    {
        if (JobReader.ParseWait(wait, services.Options.MaxWait) is not { } waitFor)
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, "wait must be a number of seconds, true or false.");
        }

        ReadJob read = await services.Reader.ReadJobAsync(request, cancellationToken);
        if (read.Job is not { } job)
        {
            return read.Problem!;
        }

        return await SubmitAsync(request.HttpContext, job, waitFor, scoreRoute: false, services, cancellationToken);
    }

    // POST /v1/score: one image, waited for up to MaxWaitSeconds.
    private static async Task<IResult> ScoreAsync(HttpRequest request, GatewayServices services, CancellationToken cancellationToken)
    {
        ReadJob read = await services.Reader.ReadScoreAsync(request, cancellationToken);
        if (read.Job is not { } job)
        {
            return read.Problem!;
        }

        return await SubmitAsync(request.HttpContext, job, services.Options.MaxWait, scoreRoute: true, services, cancellationToken);
    }

    private static async Task<IResult> SubmitAsync(HttpContext http, IncomingJob job, TimeSpan wait, bool scoreRoute, GatewayServices services, CancellationToken cancellationToken)
    {
        using IDisposable? scope = services.Logger.BeginScope(new Dictionary<string, object> { ["JobId"] = job.JobId });
        if (job.CallbackUrl is { } callback && await services.Webhooks.ValidateCallback(callback) is { } refused)
        {
            return GatewayProblems.Result(GatewayProblems.CallbackRefused, refused);
        }

        // A caller who waits is told at once that the cluster is saturated; a queued job waits in the broker instead.
        if (wait > TimeSpan.Zero && await services.Intake.GetAsync(cancellationToken) is { Closed: true } intake)
        {
            return GatewayProblems.Result(GatewayProblems.Overloaded, "Every device of the cluster is saturated; retry later, or submit without waiting.", intake.RetryAfter);
        }

        Submission submission;
        try
        {
            submission = await services.Submitter.SubmitAsync(job, wait, cancellationToken);
        }
        catch (IdempotencyConflictException ex)
        {
            return GatewayProblems.Result(GatewayProblems.IdempotencyConflict, ex.Message, extensions: new Dictionary<string, object?> { ["jobId"] = ex.JobId });
        }

        LogSubmitted(services.Logger, job.JobId, job.Images.Count, submission.Repeated, submission.Job.Status);
        JobResource resource = submission.Job;
        string location = $"/v1/jobs/{Uri.EscapeDataString(job.JobId)}";
        if (!resource.Finished)
        {
            return TypedResults.Accepted(location, resource);
        }

        if (scoreRoute && resource.Rejection is { } rejection)
        {
            return GatewayProblems.Result(
                GatewayProblems.JobRejected,
                $"{rejection.Code}: {rejection.Reason}",
                extensions: new Dictionary<string, object?> { ["jobId"] = job.JobId, ["rejection"] = rejection });
        }

        // An image that found every device's queue full: the caller should come back, with a new job id.
        if (scoreRoute && resource.Verdict?.Images is [{ Error: { Code: ErrorCodes.Overloaded } error }])
        {
            return GatewayProblems.Result(
                GatewayProblems.Overloaded,
                $"{error.Message} Send the image again under a new job id.",
                TimeSpan.FromMilliseconds(error.RetryAfterMs ?? 1000),
                new Dictionary<string, object?> { ["jobId"] = job.JobId });
        }

        http.Response.Headers.Location = location;
        return TypedResults.Ok(resource);
    }

    private static async Task<IResult> GetJobAsync(string id, GatewayServices services) =>
        await services.Submitter.GetAsync(id) is { } job
            ? TypedResults.Ok(job)
            : GatewayProblems.Result(GatewayProblems.JobNotFound, $"No job '{id}' is on record (records are kept {services.Records.TimeToLive.TotalHours:0.#} h).");

    // The map of one image as a transparent PNG: `width` pixels wide (default 224), as tall as the map's aspect makes it.
    private static async Task<IResult> GetMapAsync(string id, int index, int? width, GatewayServices services)
    {
        if (width is < 1 or > MaxMapWidth)
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, $"width must be 1 to {MaxMapWidth}.");
        }

        if (await services.Records.GetAsync(id) is not { } record)
        {
            return GatewayProblems.Result(GatewayProblems.JobNotFound, $"No job '{id}' is on record.");
        }

        if (record.Verdict is not { } verdict || index < 0 || index >= verdict.Images.Count)
        {
            return GatewayProblems.Result(
                GatewayProblems.ImageNotFound,
                record.Verdict is null ? $"Job '{id}' is {record.Status}: it has no scored images." : $"Job '{id}' has images 0 to {record.Verdict.Images.Count - 1}.");
        }

        if (await services.Records.GetMapAsync(id, index) is not { } map)
        {
            return GatewayProblems.Result(GatewayProblems.MapNotFound, $"Image {index} of job '{id}' has no activation map (it failed, or the model has no feature map).");
        }

        int w = width ?? DefaultMapWidth;
        int h = Math.Max(1, (int)Math.Round((double)w * map.Height / map.Width));
        using Image layer = ActivationOverlay.Layer(map, w, h);
        using var png = new MemoryStream();
        await layer.SaveAsPngAsync(png);
        return TypedResults.File(png.ToArray(), "image/png");
    }

    private static async Task<IResult> GetAuthorAsync(string id, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, "The author id is empty.");
        }

        AuthorContext author = await grains.GetGrain<IAuthorGrain>(AuthorKey.Of(id)).GetAsync(cancellationToken);
        return author.Jobs > 0
            ? TypedResults.Ok(author)
            : GatewayProblems.Result(GatewayProblems.AuthorNotFound, $"No job of author '{id}' has been scored.");
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Debug, Message = "Job {JobId}: {Images} image(s) posted (repeat: {Repeated}), now {Status}")]
    private static partial void LogSubmitted(ILogger logger, string jobId, int images, bool repeated, string status);
}

/// <summary>What the job routes need, in one parameter.</summary>
public sealed class GatewayServices(
    JobReader reader,
    JobSubmitter submitter,
    IntakeStatusCache intake,
    WebhookRegistrations webhooks,
    RedisJobRecords records,
    IOptions<GatewayOptions> options,
    ILogger<GatewayServices> logger)
{
    public JobReader Reader => reader;

    public JobSubmitter Submitter => submitter;

    public IntakeStatusCache Intake => intake;

    public WebhookRegistrations Webhooks => webhooks;

    public RedisJobRecords Records => records;

    public GatewayOptions Options => options.Value;

    public ILogger Logger => logger;
}
