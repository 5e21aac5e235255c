using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Hosting.Images;

/// <summary>What the silo may download when an image is referenced by URL. Off unless configured.</summary>
public sealed class UrlFetchOptions
{
    public const string SectionName = "ArtGrid:UrlFetch";

    /// <summary>Largest accepted <see cref="MaxBytes"/>: the fetcher holds a whole image in memory.</summary>
    public const int MaxBytesLimit = 1024 * 1024 * 1024;

    /// <summary>URL references are refused unless this is true.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// Host names the fetcher may contact, compared case-insensitively; "*.example.com" allows every subdomain of
    /// example.com (not example.com itself). IP literals match only exactly. An empty list allows no host.
    /// Every redirect target must be on the list too.
    /// </summary>
    [Required]
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>
    /// Lets the fetcher connect to loopback, private, link-local, CGNAT and other non-public addresses.
    /// Leave it off in production: it is what stops a URL from reaching internal services or cloud metadata.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Largest body accepted, whether announced by Content-Length or counted while reading.</summary>
    [Range(1, MaxBytesLimit)]
    public int MaxBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Limit for the whole fetch: every connect, header wait and body read, redirects included.</summary>
    [Range(0.1, 300)]
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>Redirects followed before the fetch fails; each hop is checked against the policy again.</summary>
    [Range(0, 20)]
    public int MaxRedirects { get; set; } = 3;
}
