using ArtGrid.Contracts;
using ArtGrid.Hosting.Gateway;
using ArtGrid.Hosting.Review;

namespace ArtGrid.Gateway.Review;

/// <summary>
/// The reviewer's routes: <c>GET /v1/jobs/{id}/images/{index}/image</c> (the uploaded image, for the console to show
/// under its map), <c>GET /v1/review/queue</c> and <c>GET /v1/review/stats</c> (scope <c>read</c>), <c>POST /v1/reviews</c>
/// and <c>GET /v1/review/export</c> (scope <c>review</c>).
/// </summary>
public static partial class ReviewEndpoints
{
    public const int DefaultPageSize = 50;

    public static IEndpointRouteBuilder MapArtGridReview(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder v1 = app.MapGroup("/v1").RequireRateLimiting(GatewayHosting.RateLimitPolicy);
        v1.MapGet("/jobs/{id}/images/{index:int}/image", GetImageAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("GetImage").WithSummary("The uploaded image (PNG, JPEG, GIF, WebP or BMP, by its bytes), while its claim check lasts or once reviewed")
            .Produces(StatusCodes.Status200OK, typeof(byte[]), "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(415).ProducesProblem(429);
        v1.MapGet("/review/queue", GetQueueAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("GetReviewQueue").WithSummary("Recent scored images, newest first: all, or the uncertain, conflict or ai ones")
            .Produces<ReviewPage>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(429);
        v1.MapGet("/review/stats", GetStatsAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("GetReviewStats").WithSummary("The queues, the decisions, and the model's precision and recall on reviewed images")
            .Produces<ReviewStats>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(429);
        v1.MapPost("/reviews", PostReviewAsync)
            .RequireAuthorization(Scopes.Review)
            .WithName("PostReview").WithSummary("Records a reviewer's label for a scored image (the latest decision on an image wins)")
            .Accepts<ReviewRequest>("application/json")
            .Produces<ReviewDecision>(StatusCodes.Status201Created)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(429);
        v1.MapGet("/review/export", ExportAsync)
            .RequireAuthorization(Scopes.Review)
            .WithName("ExportReviews").WithSummary("The reviewed images as a data set: a zip of labels.csv and images/, as artgrid train and eval read")
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(429);
        return app;
    }

    // The bytes as uploaded, typed by their magic bytes only; a browser is told not to sniff them and not to run anything in them.
    private static async Task<IResult> GetImageAsync(string id, int index, ReviewStore reviews, HttpResponse response)
    {
        ImagePreview preview = await reviews.GetImageAsync(id, index);
        if (preview.Bytes is not { } bytes)
        {
            return GatewayProblems.Result(Problem(preview.Problem!), preview.Detail!);
        }

        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        response.Headers.CacheControl = "private";
        return TypedResults.File(bytes, preview.ContentType);
    }

    private static async Task<IResult> GetQueueAsync(string? filter, string? reviewed, int? limit, string? before, ReviewStore reviews)
    {
        string queue = string.IsNullOrEmpty(filter) ? ReviewKeys.All : filter;
        if (!ReviewKeys.Filters.Contains(queue))
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, $"filter must be one of {string.Join(", ", ReviewKeys.Filters)}.");
        }

        if (reviewed is not (null or "" or "any" or "true" or "false"))
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, "reviewed must be true, false or any.");
        }

        bool? wanted = reviewed switch { "true" => true, "false" => false, _ => null };

        if (limit is < 1 or > ReviewStore.MaxPageSize)
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, $"limit must be 1 to {ReviewStore.MaxPageSize}.");
        }

        if (before is { Length: > 0 })
        {
            try
            {
                ReviewStore.ParseCursor(before);
            }
            catch (FormatException ex)
            {
                return GatewayProblems.Result(GatewayProblems.InvalidRequest, ex.Message);
            }
        }

        return TypedResults.Ok(await reviews.ListAsync(queue, wanted, limit ?? DefaultPageSize, before is { Length: > 0 } ? before : null));
    }

    private static async Task<IResult> GetStatsAsync(ReviewStore reviews) => TypedResults.Ok(await reviews.StatsAsync());

    private static async Task<IResult> PostReviewAsync(ReviewRequest? body, HttpContext http, ReviewStore reviews, ILogger<ReviewStore> logger)
    {
        if (body is null || body.JobId is null || !ScoreImagesValidator.IsValidJobId(body.JobId))
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, $"jobId must be a job id (1 to {ScoreImagesValidator.MaxJobIdLength} printable characters).");
        }

        if (body.Image is not { } index || index < 0)
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, "image must be the index of an image of the job (from 0).");
        }

        if (body.Label is not (Labels.Ai or Labels.Human))
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, "label must be \"ai\" or \"human\".");
        }

        if (body.Note is { Length: > ReviewStore.MaxNoteLength })
        {
            return GatewayProblems.Result(GatewayProblems.InvalidRequest, $"note is at most {ReviewStore.MaxNoteLength} characters.");
        }

        string reviewer = http.User.Identity?.Name ?? "unknown";
        (ReviewDecision? decision, string? problem, string? detail) = await reviews.RecordAsync(body.JobId, index, body.Label, body.Note, reviewer);
        if (decision is null)
        {
            return GatewayProblems.Result(Problem(problem!), detail!);
        }

        LogReviewed(logger, decision.JobId, decision.Image, decision.Reviewer, decision.Label, decision.Outcome);
        return TypedResults.Created($"/v1/review/queue?filter=all", decision);
    }

    // The zip is written to a temporary file first (kept images can be many MB; nothing is held in memory), then streamed.
    private static async Task<IResult> ExportAsync(ReviewStore reviews, HttpResponse response, TimeProvider time, CancellationToken cancellationToken)
    {
        string path = Path.Combine(Path.GetTempPath(), $"artgrid-export-{Guid.NewGuid():N}.zip");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            (int rows, int leftOut) = await reviews.ExportAsync(file, cancellationToken);
            file.Position = 0;
            response.Headers["X-ArtGrid-Rows"] = rows.ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers["X-ArtGrid-Left-Out"] = leftOut.ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers.CacheControl = "no-store";
            return TypedResults.File(file, "application/zip", $"artgrid-reviews-{time.GetUtcNow():yyyyMMdd-HHmmss}.zip");
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    private static ProblemType Problem(string code) => GatewayProblems.All.First(p => p.Code == code);

    [LoggerMessage(EventId = 7201, Level = LogLevel.Information, Message = "Image {Image} of job {JobId} reviewed by {Reviewer}: {Label} ({Outcome})")]
    private static partial void LogReviewed(ILogger logger, string jobId, int image, string reviewer, string label, string outcome);
}
