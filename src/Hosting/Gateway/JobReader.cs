using System.Globalization;
using System.Text.Json;
using ArtGrid.Contracts;
using MassTransit;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace ArtGrid.Hosting.Gateway;

/// <summary>A job read from a request, or why it was refused (a problem answer): nothing is uploaded for a refused job.</summary>
public readonly record struct ReadJob(IncomingJob? Job, IResult? Problem);

/// <summary>
/// Reads a job from a request body, JSON (images inline as base64 or by URL) or <c>multipart/form-data</c> (file parts
/// read one at a time, each bounded by <see cref="GatewayOptions.MaxImageBytes"/> as it streams in), and checks all of
/// it (job id, 1 to 64 images, sizes, URLs, metadata, priority) before anything is uploaded. The body as a whole is
/// bounded by <see cref="GatewayOptions.MaxRequestBytes"/>: Kestrel stops reading past it, answered 413.
/// </summary>
public sealed class JobReader(GatewayOptions options, bool acceptUrls)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Reads a <c>POST /v1/jobs</c> body.</summary>
    public async Task<ReadJob> ReadJobAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (Limit(request) is { } tooLarge)
        {
            return new ReadJob(null, tooLarge);
        }

        if (request.HasJsonContentType())
        {
            PostJobRequest? body;
            try
            {
                body = await JsonSerializer.DeserializeAsync<PostJobRequest>(request.Body, Json, cancellationToken);
            }
            catch (JsonException ex)
            {
                return Refuse(GatewayProblems.InvalidRequest, $"The body is not a valid job: {ex.Message}");
            }

            if (body is null)
            {
                return Refuse(GatewayProblems.InvalidRequest, "The body is empty.");
            }

            return Check(
                request,
                body.JobId,
                body.Images?.Select(i => (i.Name, i.Base64, i.Url)).ToList() ?? [],
                body.Metadata,
                body.CallbackUrl,
                body.Priority);
        }

        if (IsMultipart(request, out string? boundary))
        {
            return await ReadMultipartAsync(request, boundary!, cancellationToken);
        }

        return Refuse(GatewayProblems.UnsupportedMediaType, "Send the job as application/json or multipart/form-data.");
    }

    /// <summary>Reads a <c>POST /v1/score</c> body: one image (JSON with base64 or url, or one file part).</summary>
    public async Task<ReadJob> ReadScoreAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (Limit(request) is { } tooLarge)
        {
            return new ReadJob(null, tooLarge);
        }

        ReadJob read;
        if (request.HasJsonContentType())
        {
            ScoreRequest? body;
            try
            {
                body = await JsonSerializer.DeserializeAsync<ScoreRequest>(request.Body, Json, cancellationToken);
            }
            catch (JsonException ex)
            {
                return Refuse(GatewayProblems.InvalidRequest, $"The body is not a valid score request: {ex.Message}");
            }

            if (body is null)
            {
                return Refuse(GatewayProblems.InvalidRequest, "The body is empty.");
            }

            read = Check(request, body.JobId, [(body.Name, body.Base64, body.Url)], body.Metadata, null, body.Priority);
        }
        else if (IsMultipart(request, out string? boundary))
        {
            read = await ReadMultipartAsync(request, boundary!, cancellationToken);
        }
        else
        {
            return Refuse(GatewayProblems.UnsupportedMediaType, "Send the image as application/json or multipart/form-data.");
        }

        return read.Job is { Images.Count: not 1 }
            ? Refuse(GatewayProblems.InvalidRequest, "POST /v1/score takes exactly one image; send several as a job (POST /v1/jobs).")
            : read;
    }

    /// <summary>"true" is the longest wait allowed; a number of seconds is capped at it; absent or "false" is none. Null: malformed.</summary>
    public static TimeSpan? ParseWait(string? wait, TimeSpan max)
    {
        if (string.IsNullOrEmpty(wait) || wait.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            return TimeSpan.Zero;
        }

        if (wait.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            return max;
        }

        return double.TryParse(wait, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0 && double.IsFinite(seconds)
            ? TimeSpan.FromSeconds(Math.Min(seconds, max.TotalSeconds))
            : null;
    }

    private IResult? Limit(HttpRequest request)
    {
        if (request.ContentLength > options.MaxRequestBytes)
        {
            return GatewayProblems.Result(GatewayProblems.RequestTooLarge, $"The body announces {request.ContentLength} bytes; at most {options.MaxRequestBytes} are accepted.");
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxRequestBytes;
        }

        return null;
    }

    private static bool IsMultipart(HttpRequest request, out string? boundary)
    {
        boundary = null;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out MediaTypeHeaderValue? type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        return !string.IsNullOrEmpty(boundary);
    }

    // Parts: file parts are images (their file name is the image's name); fields jobId, callbackUrl, priority, url
    // (repeatable: images by URL), author, source, licence, declaredAi, tag (repeatable), or metadata (JSON).
    private async Task<ReadJob> ReadMultipartAsync(HttpRequest request, string boundary, CancellationToken cancellationToken)
    {
        var reader = new MultipartReader(boundary, request.Body);
        var files = new List<(string? Name, byte[] Bytes)>();
        var urls = new List<string>();
        var tags = new List<string>();
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        MultipartSection? section;
        while ((section = await reader.ReadNextSectionAsync(cancellationToken)) is not null)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out ContentDispositionHeaderValue? disposition)
                || !disposition.DispositionType.Equals("form-data"))
            {
                return Refuse(GatewayProblems.InvalidRequest, "Every part needs a 'Content-Disposition: form-data' header.");
            }

            string field = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (disposition.IsFileDisposition())
            {
                if (files.Count + urls.Count >= ScoreImagesValidator.MaxImagesPerJob)
                {
                    return Refuse(GatewayProblems.InvalidRequest, $"a job needs 1 to {ScoreImagesValidator.MaxImagesPerJob} images");
                }

                string? name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                byte[]? bytes = await ReadBoundedAsync(section.Body, options.MaxImageBytes, cancellationToken);
                if (bytes is null)
                {
                    return Refuse(GatewayProblems.ImageTooLarge, $"Image '{name}' is over {options.MaxImageBytes} bytes.");
                }

                files.Add((name, bytes));
                continue;
            }

            // A form field: small text, bounded so that a field cannot stand in for an image.
            byte[]? text = await ReadBoundedAsync(section.Body, 64 * 1024, cancellationToken);
            if (text is null)
            {
                return Refuse(GatewayProblems.InvalidRequest, $"Form field '{field}' is over 64 KiB.");
            }

            string value = System.Text.Encoding.UTF8.GetString(text);
            switch (field.ToLowerInvariant())
            {
                case "url":
                    urls.Add(value);
                    break;
                case "tag" or "tags":
                    tags.Add(value);
                    break;
                default:
                    fields[field] = value;
                    break;
            }
        }

        JobMetadata? metadata;
        try
        {
            metadata = fields.TryGetValue("metadata", out string? json)
                ? JsonSerializer.Deserialize<JobMetadata>(json, Json)
                : null;
        }
        catch (JsonException ex)
        {
            return Refuse(GatewayProblems.InvalidRequest, $"Field 'metadata' is not valid JSON metadata: {ex.Message}");
        }

        bool? declaredAi = null;
        if (fields.TryGetValue("declaredAi", out string? declared))
        {
            if (!bool.TryParse(declared, out bool parsed))
            {
                return Refuse(GatewayProblems.InvalidRequest, "Field 'declaredAi' must be true or false.");
            }

            declaredAi = parsed;
        }

        metadata = (metadata ?? JobMetadata.None) with
        {
            Author = fields.GetValueOrDefault("author") ?? metadata?.Author,
            Source = fields.GetValueOrDefault("source") ?? metadata?.Source,
            Licence = fields.GetValueOrDefault("licence") ?? metadata?.Licence,
            DeclaredAi = declaredAi ?? metadata?.DeclaredAi,
            Tags = tags.Count > 0 ? tags : metadata?.Tags,
        };

        Uri? callback = null;
        if (fields.TryGetValue("callbackUrl", out string? callbackText) && !Uri.TryCreate(callbackText, UriKind.Absolute, out callback))
        {
            return Refuse(GatewayProblems.CallbackRefused, "Field 'callbackUrl' is not an absolute URL.");
        }

        int? priority = null;
        if (fields.TryGetValue("priority", out string? priorityText))
        {
            if (!int.TryParse(priorityText, out int parsed))
            {
                return Refuse(GatewayProblems.InvalidRequest, "Field 'priority' must be a whole number from 0 to 9.");
            }

            priority = parsed;
        }

        var images = new List<(string? Name, string? Base64, Uri? Url)>();
        var uploaded = new List<byte[]>();
        foreach ((string? name, byte[] bytes) in files)
        {
            images.Add((name, null, null));
            uploaded.Add(bytes);
        }

        foreach (string url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? parsed))
            {
                return Refuse(GatewayProblems.InvalidRequest, $"Field 'url' value '{url}' is not an absolute URL.");
            }

            images.Add((null, null, parsed));
        }

        return Check(request, fields.GetValueOrDefault("jobId"), images, metadata, callback, priority, uploaded);
    }

    // The rules every job meets, whichever body it came in. Inline images come as base64 (JSON) or as bytes already
    // read (multipart, in the order of `images`).
    private ReadJob Check(
        HttpRequest request,
        string? bodyJobId,
        IReadOnlyList<(string? Name, string? Base64, Uri? Url)> images,
        JobMetadata? metadata,
        Uri? callbackUrl,
        int? priority,
        IReadOnlyList<byte[]>? files = null)
    {
        string? headerKey = request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } key ? key : null;
        if (headerKey is not null && bodyJobId is not null && headerKey != bodyJobId)
        {
            return Refuse(GatewayProblems.InvalidRequest, "The Idempotency-Key header and the body's jobId differ; give one, or the same in both.");
        }

        string jobId = bodyJobId ?? headerKey ?? NewId.NextGuid().ToString("N");
        if (ScoreImagesValidator.ValidateShape(jobId, images.Count) is { } shape)
        {
            return Refuse(GatewayProblems.InvalidRequest, shape);
        }

        if (priority is < 0 or > 9)
        {
            return Refuse(GatewayProblems.InvalidRequest, "The priority must be 0 to 9.");
        }

        var incoming = new List<IncomingImage>(images.Count);
        int file = 0;
        for (int i = 0; i < images.Count; i++)
        {
            (string? name, string? base64, Uri? url) = images[i];
            bool isFile = files is not null && base64 is null && url is null;
            name = string.IsNullOrWhiteSpace(name) ? (url is not null ? Path.GetFileName(url.AbsolutePath) : null) : name.Trim();
            name = string.IsNullOrWhiteSpace(name) ? $"image-{i}" : name;
            if (name.Length > 500 || name.Any(char.IsControl))
            {
                return Refuse(GatewayProblems.InvalidRequest, $"Image {i}'s name must be at most 500 printable characters.");
            }

            if (isFile)
            {
                byte[] bytes = files![file++];
                if (bytes.Length == 0)
                {
                    return Refuse(GatewayProblems.InvalidImage, $"Image '{name}' is empty.");
                }

                incoming.Add(new IncomingImage(name, bytes, null));
                continue;
            }

            if ((base64 is null) == (url is null))
            {
                return Refuse(GatewayProblems.InvalidRequest, $"Image '{name}' needs exactly one of base64 or url.");
            }

            if (url is not null)
            {
                if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
                {
                    return Refuse(GatewayProblems.InvalidRequest, $"Image '{name}': only absolute http and https URLs are accepted.");
                }

                if (!acceptUrls)
                {
                    return Refuse(GatewayProblems.UrlsDisabled, "Images by URL are switched off (ArtGrid:UrlFetch:Enabled); send the bytes instead.");
                }

                incoming.Add(new IncomingImage(name, null, url));
                continue;
            }

            // Base64's length tells the decoded size before a byte is decoded.
            if ((long)base64!.Length / 4 * 3 > options.MaxImageBytes + 2L)
            {
                return Refuse(GatewayProblems.ImageTooLarge, $"Image '{name}' is over {options.MaxImageBytes} bytes.");
            }

            byte[] decoded;
            try
            {
                decoded = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                return Refuse(GatewayProblems.InvalidImage, $"Image '{name}' is not valid base64.");
            }

            if (decoded.Length == 0)
            {
                return Refuse(GatewayProblems.InvalidImage, $"Image '{name}' is empty.");
            }

            if (decoded.Length > options.MaxImageBytes)
            {
                return Refuse(GatewayProblems.ImageTooLarge, $"Image '{name}' is over {options.MaxImageBytes} bytes.");
            }

            incoming.Add(new IncomingImage(name, decoded, null));
        }

        return new ReadJob(new IncomingJob(jobId, incoming, metadata ?? JobMetadata.None, callbackUrl, (byte)(priority ?? 0)), null);
    }

    private static ReadJob Refuse(ProblemType problem, string detail) => new(null, GatewayProblems.Result(problem, detail));

    // The whole part, or null once it passes `limit` bytes (reading stops there).
    private static async Task<byte[]?> ReadBoundedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
