using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Grains.Imaging.Decoding;

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
    Image<Rgba32> DecodeFirstFrame(byte[] bytes);
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
