using ArtGrid.Contracts;
using ArtGrid.Hosting.Webhooks;

namespace ArtGrid.Hosting.Gateway;

/// <summary>
/// The JSON body of <c>POST /v1/jobs</c>: 1 to 64 images, each inline (<see cref="PostImage.Base64"/>) or by
/// <see cref="PostImage.Url"/>; the same fields travel as form fields in a <c>multipart/form-data</c> post, with the
/// images as file parts.
/// </summary>
public sealed record PostJobRequest
{
    /// <summary>The job's id; the <c>Idempotency-Key</c> header may give it instead. Posting it again with the same images answers the first job.</summary>
    public string? JobId { get; init; }

    public IReadOnlyList<PostImage>? Images { get; init; }

    public JobMetadata? Metadata { get; init; }

    /// <summary>Where to POST the signed verdict (or rejection) when the job ends.</summary>
    public Uri? CallbackUrl { get; init; }

    /// <summary>0 (default) to 9; higher goes first where the queue supports priorities.</summary>
    public int? Priority { get; init; }
}

/// <summary>One image of a JSON post: exactly one of <see cref="Base64"/> and <see cref="Url"/>.</summary>
public sealed record PostImage
{
    public string? Name { get; init; }

    public string? Base64 { get; init; }

    public Uri? Url { get; init; }
}

/// <summary>The JSON body of <c>POST /v1/score</c>: one image, inline or by URL, and the job's metadata.</summary>
public sealed record ScoreRequest
{
    public string? JobId { get; init; }

    public string? Name { get; init; }

    public string? Base64 { get; init; }

    public Uri? Url { get; init; }

    public JobMetadata? Metadata { get; init; }

    public int? Priority { get; init; }
}

/// <summary>
/// A job as the gateway answers it, in every route and state: its status (<see cref="JobStatus"/>: accepted, received,
/// completed, rejected), when each step happened, and the verdict or the rejection once it ended; <see cref="Callback"/>
/// is the webhook's delivery when the job asked for one.
/// </summary>
public sealed record JobResource(
    string JobId,
    string Status,
    DateTimeOffset? AcceptedAt,
    DateTimeOffset? ReceivedAt,
    DateTimeOffset? CompletedAt,
    JobVerdict? Verdict,
    ScoreImagesRejected? Rejection,
    WebhookDelivery? Callback)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Finished => Status is JobStatus.Completed or JobStatus.Rejected;

    public static JobResource Of(JobRecord record, WebhookDelivery? callback) =>
        new(record.JobId, record.Status, record.AcceptedAt, record.ReceivedAt, record.CompletedAt, record.Verdict, record.Rejection, callback);
}

/// <summary>One image of an incoming job, read and checked but not yet uploaded: bytes or a URL.</summary>
public sealed record IncomingImage(string Name, byte[]? Bytes, Uri? Url);

/// <summary>A job read from a request and checked whole, before anything of it is uploaded or sent.</summary>
public sealed record IncomingJob(string JobId, IReadOnlyList<IncomingImage> Images, JobMetadata Metadata, Uri? CallbackUrl, byte Priority);
