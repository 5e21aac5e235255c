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
    float[]? MeanImage = null)
{
    public int ElementCount => 3 * Width * Height;
}
