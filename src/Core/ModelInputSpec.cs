namespace ArtGrid;

public enum TensorLayout
{
    Nchw,
    Nhwc,
}

public enum ChannelOrder
{
    Rgb,
    Bgr,
}

/// <summary>How the decoded image becomes the model's width x height.</summary>
public enum ImageFit
{
    /// <summary>The whole image resized to the input size, aspect not kept (versions 1 and 2).</summary>
    Stretch,

    /// <summary>
    /// A window of the input size cut from the middle of the image at its own scale: nothing is resampled unless a side
    /// is shorter than the window (then the image is enlarged just enough) or longer than <see cref="ImageFraming.MaxSide"/>.
    /// Keeps the pixel-level traces of how the image was made, which resizing blurs.
    /// </summary>
    Crop,
}

/// <summary>
/// What the decoder must make of an image: <see cref="Width"/> x <see cref="Height"/> pixels by <see cref="Fit"/>, the
/// image first shrunk (aspect kept) so that its longer side is at most <see cref="MaxSide"/> when that is positive.
/// </summary>
public readonly record struct ImageFraming(int Width, int Height, ImageFit Fit = ImageFit.Stretch, int MaxSide = 0)
{
    /// <summary>
    /// The window a <see cref="ImageFit.Crop"/> cuts from an oriented image of <paramref name="width"/> x <paramref name="height"/>:
    /// the size the image is resampled to first (its own when nothing needs resampling), then the window's left and top in
    /// it. Windows of an image at its own size start on multiples of 8, so that every window sees the JPEG block grid of
    /// the image in the same phase.
    /// </summary>
    public (int ScaledWidth, int ScaledHeight, int Left, int Top) CropWindow(int width, int height)
    {
        double scale = 1;
        if (MaxSide > 0 && Math.Max(width, height) > MaxSide)
        {
            scale = (double)MaxSide / Math.Max(width, height);
        }

        // Enlarge (only) when a side would be shorter than the window.
        scale = Math.Max(scale, Math.Max((double)Width / width, (double)Height / height));
        int scaledWidth = scale == 1 ? width : Math.Max(Width, (int)Math.Round(width * scale));
        int scaledHeight = scale == 1 ? height : Math.Max(Height, (int)Math.Round(height * scale));
        int left = (scaledWidth - Width) / 2, top = (scaledHeight - Height) / 2;
        if (scale == 1)
        {
            left -= left % 8;
            top -= top % 8;
        }

        return (scaledWidth, scaledHeight, left, top);
    }
}

/// <summary>
/// How a model wants its input: value = (pixel * Scale - mean) / std, where pixel is 0..255, mean is
/// <see cref="MeanImage"/> at that position when present (planar, in model channel order), else <see cref="Mean"/>.
/// </summary>
public sealed record ModelInputSpec(
    string Name,
    int Width,
    int Height,
    TensorLayout Layout,
    ChannelOrder ChannelOrder,
    float Scale,
    float[] Mean,
    float[] Std,
    float[]? MeanImage = null,
    ImageFit Fit = ImageFit.Stretch,
    int MaxSide = 0)
{
    public int ElementCount => 3 * Width * Height;

    public ImageFraming Framing => new(Width, Height, Fit, MaxSide);
}
