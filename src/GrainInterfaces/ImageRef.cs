namespace ArtGrid.GrainInterfaces;

/// <summary>Where the bytes of one image come from.</summary>
public enum ImageSourceKind
{
    /// <summary>The bytes travel with the job.</summary>
    Inline = 0,

    /// <summary>A path on the file system of the silo that ingests the image (embedded mode, trusted callers only).</summary>
    File = 1,

    /// <summary>
    /// No bytes: the image known by its SHA-256 alone (<see cref="ImageRef.Sha256"/>), answered from the result cache
    /// (a re-upload sent by its hash).
    /// </summary>
    Hash = 2,
}

/// <summary>One image of a job: its bytes inline, its content hash, or a reference that ingestion resolves.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageRef")]
public sealed record ImageRef(
    [property: Id(0)] ImageSourceKind Kind,
    [property: Id(1)] string Name,
    [property: Id(2)] byte[]? Bytes = null,
    [property: Id(3)] string? Sha256 = null)
{
    public static ImageRef FromFile(string path) => new(ImageSourceKind.File, path);

    public static ImageRef FromBytes(string name, byte[] bytes) => new(ImageSourceKind.Inline, name, bytes);

    /// <summary>An image named by the SHA-256 of its bytes (hex, lower-cased here, as the result cache keys it).</summary>
    public static ImageRef FromHash(string name, string sha256) => new(ImageSourceKind.Hash, name, Sha256: sha256.ToLowerInvariant());
}
