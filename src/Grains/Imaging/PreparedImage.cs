using ArtGrid.Abstractions;

namespace ArtGrid.Grains.Imaging;

/// <summary>The outcome of preprocessing one image: a packed tensor, or an error for that image alone.</summary>
public readonly record struct PreparedImage(float[]? Tensor, ImageError? Error, string? Format, int Width, int Height, IReadOnlyList<Evidence>? PixelEvidence = null)
{
    public static PreparedImage Fail(string code, string message, string? format = null, int width = 0, int height = 0) =>
        new(null, new ImageError(code, message), format, width, height);

    public PreprocessResult ToResult() => new(Tensor, Error, Format, Width, Height, PixelEvidence);
}
