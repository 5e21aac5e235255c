namespace ArtGrid.Hosting.Images;

/// <summary>The stable error codes of <see cref="ImageUnavailableException"/>.</summary>
public static class ImageSourceErrors
{
    /// <summary>URL references are switched off ("ArtGrid:UrlFetch:Enabled" is false). Permanent.</summary>
    public const string UrlDisabled = "url_disabled";

    /// <summary>The URL's host (or a redirect's host) is not on "ArtGrid:UrlFetch:AllowedHosts". Permanent.</summary>
    public const string HostNotAllowed = "host_not_allowed";

    /// <summary>The host resolves only to addresses the fetcher must not connect to (loopback, private, link-local...). Permanent.</summary>
    public const string AddressNotAllowed = "address_not_allowed";

    /// <summary>The transfer failed: a timeout, a connection error or an HTTP error status. Permanent or transient, see the exception.</summary>
    public const string FetchFailed = "fetch_failed";

    /// <summary>The image is larger than the configured byte limit. Permanent.</summary>
    public const string TooLarge = "too_large";

    /// <summary>Nothing exists at the reference (HTTP 404/410, missing file). Permanent.</summary>
    public const string NotFound = "not_found";

    /// <summary>The reference itself is unacceptable: a scheme other than http/https, a key that leaves the store. Permanent.</summary>
    public const string BadReference = "bad_reference";
}

/// <summary>
/// An image reference (a URL or a store key) could not be turned into bytes.
/// <see cref="Permanent"/> tells a caller whether retrying the same reference can help: policy refusals,
/// missing images and size limits are permanent; timeouts, server errors and connection failures are not.
/// </summary>
public sealed class ImageUnavailableException : Exception
{
    public ImageUnavailableException(string code, bool permanent, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Code = code;
        Permanent = permanent;
    }

    /// <summary>One of the <see cref="ImageSourceErrors"/> codes.</summary>
    public string Code { get; }

    /// <summary>True when retrying the same reference will not help.</summary>
    public bool Permanent { get; }

    /// <summary>Which image of a job the reference belongs to, when known.</summary>
    public int? ImageIndex { get; init; }
}
