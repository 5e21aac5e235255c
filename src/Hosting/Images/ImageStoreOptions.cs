using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Hosting.Images;

/// <summary>Where image keys (relative paths) are read from. Key references are off while <see cref="Root"/> is unset.</summary>
public sealed class ImageStoreOptions
{
    public const string SectionName = "ArtGrid:ImageStore";

    /// <summary>
    /// The folder keys are relative to; null or empty disables key references. A relative path is taken from the
    /// working directory when the store is created.
    /// </summary>
    public string? Root { get; set; }

    /// <summary>Largest file accepted.</summary>
    [Range(1, UrlFetchOptions.MaxBytesLimit)]
    public int MaxBytes { get; set; } = 64 * 1024 * 1024;
}
