using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging.Decoding;

/// <summary>Which library turns compressed bytes into pixels. Everything after decoding (orientation, resize, packing) is shared.</summary>
public enum DecoderKind
{
    /// <summary>SkiaSharp: Skia's codecs over libjpeg-turbo, libpng, libwebp and its own GIF and BMP readers (native code).</summary>
    Skia,

    /// <summary>SixLabors.ImageSharp 2.1: fully managed.</summary>
    ImageSharp,
}

/// <summary>
/// Decodes the first frame of an image whose format the caller has already allow-listed. Implementations throw on
/// invalid or truncated input (any exception but out-of-memory is a per-image failure) and must be thread-safe.
/// </summary>
public interface IFrameDecoder
{
    DecoderKind Kind { get; }

    /// <summary>Width and height from the header, without decoding pixels.</summary>
    (int Width, int Height) ReadSize(byte[] bytes);

    /// <summary>
    /// The first frame as straight (not premultiplied) RGBA, without colour management. A non-default EXIF orientation
    /// is left in <c>Metadata.ExifProfile</c>, not applied, so that pixel-level evidence sees the pixels as written.
    /// </summary>
    /// <remarks>
    /// With <paramref name="minSide"/> above 0 a decoder that can decode at a reduced size (Skia, for JPEG) may return
    /// the smallest such size whose width and height are both at least <paramref name="minSide"/>; others ignore it.
    /// </remarks>
    Image<Rgba32> DecodeFirstFrame(byte[] bytes, int minSide = 0);
}

public static class FrameDecoders
{
    public static IFrameDecoder Create(DecoderKind kind, Configuration configuration) => kind switch
    {
        DecoderKind.Skia => new SkiaFrameDecoder(configuration),
        DecoderKind.ImageSharp => new ImageSharpFrameDecoder(configuration),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown decoder."),
    };
}
