namespace ArtGrid.GrainInterfaces;

/// <summary>Where the bytes of one image come from.</summary>
public enum ImageSourceKind
{
    /// <summary>The bytes travel with the job.</summary>
    Inline = 0,

    /// <summary>A path on the file system of the silo that ingests the image (embedded mode, trusted callers only).</summary>
    File = 1,
}

/// <summary>One image of a job: its bytes inline, or a reference that ingestion resolves.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ImageRef")]
public sealed record ImageRef(
    [property: Id(0)] ImageSourceKind Kind,
    [property: Id(1)] string Name,
    [property: Id(2)] byte[]? Bytes = null)
{
    public static ImageRef FromFile(string path) => new(ImageSourceKind.File, path);

    public static ImageRef FromBytes(string name, byte[] bytes) => new(ImageSourceKind.Inline, name, bytes);
}
