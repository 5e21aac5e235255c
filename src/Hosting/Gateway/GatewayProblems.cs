using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace ArtGrid.Hosting.Gateway;

/// <summary>
/// One kind of error the gateway answers with: an RFC 9457 problem whose <see cref="Type"/> ("urn:artgrid:problem:"
/// and the code) and <see cref="Code"/> never change, so that callers branch on them and not on the text.
/// </summary>
public sealed record ProblemType(string Code, int Status, string Title)
{
    public const string TypePrefix = "urn:artgrid:problem:";

    public string Type => TypePrefix + Code;
}

/// <summary>
/// Every error the gateway answers, as RFC 9457 problem details (<c>application/problem+json</c>) with a stable
/// <c>type</c> and a <c>code</c> extension: refusals of the routes, and (through <see cref="Customize"/>) the errors
/// ASP.NET Core itself answers (unknown route, wrong method, body too large, an unhandled exception).
/// </summary>
public static class GatewayProblems
{
    public static readonly ProblemType InvalidRequest = new("invalid_request", 400, "The request is not valid");
    public static readonly ProblemType InvalidImage = new("invalid_image", 400, "An image of the request cannot be read");
    public static readonly ProblemType UrlsDisabled = new("urls_disabled", 400, "Images by URL are not accepted here");
    public static readonly ProblemType CallbackRefused = new("callback_refused", 400, "The callback URL is refused");
    public static readonly ProblemType Unauthorized = new("unauthorized", 401, "A valid API key is needed");
    public static readonly ProblemType Forbidden = new("forbidden", 403, "The API key lacks the scope this route needs");
    public static readonly ProblemType NotFound = new("not_found", 404, "There is no such route");
    public static readonly ProblemType JobNotFound = new("job_not_found", 404, "There is no such job");
    public static readonly ProblemType ImageNotFound = new("image_not_found", 404, "The job has no such image");
    public static readonly ProblemType MapNotFound = new("map_not_found", 404, "The image has no activation map");
    public static readonly ProblemType PreviewNotFound = new("preview_not_found", 404, "There is no copy of the image to show");
    public static readonly ProblemType AuthorNotFound = new("author_not_found", 404, "No job of this author has been scored");
    public static readonly ProblemType ModelNotFound = new("model_not_found", 404, "There is no such model or version");
    public static readonly ProblemType MethodNotAllowed = new("method_not_allowed", 405, "The route does not take this method");
    public static readonly ProblemType IdempotencyConflict = new("idempotency_conflict", 409, "The job id was used for other images");
    public static readonly ProblemType RequestTooLarge = new("request_too_large", 413, "The request body is too large");
    public static readonly ProblemType ImageTooLarge = new("image_too_large", 413, "An image is too large");
    public static readonly ProblemType UnsupportedMediaType = new("unsupported_media_type", 415, "The body must be JSON or multipart/form-data");
    public static readonly ProblemType PreviewUnsupported = new("preview_unsupported", 415, "The image is not of a type the console shows");
    public static readonly ProblemType JobRejected = new("job_rejected", 422, "The cluster refused the job");
    public static readonly ProblemType ModelInvalid = new("model_invalid", 422, "The model version does not load");
    public static readonly ProblemType RateLimited = new("rate_limited", 429, "Too many requests for this API key");
    public static readonly ProblemType InternalError = new("internal_error", 500, "The gateway failed");
    public static readonly ProblemType Overloaded = new("overloaded", 503, "The cluster is saturated");
    public static readonly ProblemType Unavailable = new("unavailable", 503, "A service the gateway needs is unavailable");

    public static readonly IReadOnlyList<ProblemType> All =
    [
        InvalidRequest, InvalidImage, UrlsDisabled, CallbackRefused, Unauthorized, Forbidden, NotFound, JobNotFound,
        ImageNotFound, MapNotFound, PreviewNotFound, AuthorNotFound, ModelNotFound, MethodNotAllowed, IdempotencyConflict, RequestTooLarge,
        ImageTooLarge, UnsupportedMediaType, PreviewUnsupported, JobRejected, ModelInvalid, RateLimited, InternalError, Overloaded, Unavailable,
    ];

    /// <summary>A problem answer; with <paramref name="retryAfter"/>, a <c>Retry-After</c> header in whole seconds (at least 1).</summary>
    public static IResult Result(ProblemType problem, string detail, TimeSpan? retryAfter = null, IDictionary<string, object?>? extensions = null)
    {
        var details = new ProblemDetails { Type = problem.Type, Title = problem.Title, Status = problem.Status, Detail = detail };
        details.Extensions["code"] = problem.Code;
        foreach ((string key, object? value) in extensions ?? new Dictionary<string, object?>())
        {
            details.Extensions[key] = value;
        }

        ProblemHttpResult result = TypedResults.Problem(details);
        return retryAfter is { } wait ? new WithRetryAfter(result, wait) : result;
    }

    /// <summary>Writes a problem outside an endpoint (authentication, the rate limiter, the exception handler).</summary>
    public static async Task WriteAsync(HttpContext context, ProblemType problem, string detail, TimeSpan? retryAfter = null)
    {
        if (!context.Response.HasStarted)
        {
            await Result(problem, detail, retryAfter).ExecuteAsync(context);
        }
    }

    /// <summary>
    /// Gives the problems ASP.NET Core writes by itself (status code pages, the exception handler) the same type and
    /// code as ours, by status; a problem that has a code already is left as it is.
    /// </summary>
    public static void Customize(ProblemDetailsContext context)
    {
        ProblemDetails details = context.ProblemDetails;
        if (details.Extensions.ContainsKey("code"))
        {
            return;
        }

        ProblemType problem = details.Status switch
        {
            400 => InvalidRequest,
            401 => Unauthorized,
            403 => Forbidden,
            404 => NotFound,
            405 => MethodNotAllowed,
            413 => RequestTooLarge,
            415 => UnsupportedMediaType,
            429 => RateLimited,
            503 => Unavailable,
            _ => InternalError,
        };
        details.Type = problem.Type;
        details.Title = problem.Title;
        details.Extensions["code"] = problem.Code;
        details.Extensions.Remove("traceId");
        details.Extensions["traceId"] = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
    }

    /// <summary>Every <c>Retry-After</c> is whole seconds, rounded up, at least 1.</summary>
    public static string RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private sealed class WithRetryAfter(ProblemHttpResult inner, TimeSpan wait) : IResult, IStatusCodeHttpResult, IValueHttpResult, IContentTypeHttpResult
    {
        public int? StatusCode => inner.StatusCode;

        public object? Value => inner.ProblemDetails;

        public string? ContentType => inner.ContentType;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds(wait);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
