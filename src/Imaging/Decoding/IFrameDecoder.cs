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

    /// <summary>
    /// JPEG through the system's libjpeg-turbo with its SIMD code (TurboJPEG API, Debian's <c>libturbojpeg0</c>), the
    /// other formats through Skia. Where the library is missing, Skia decodes everything (see <see cref="FrameDecoders.Create"/>).
    /// </summary>
    TurboJpeg,
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
    /// With <paramref name="minSide"/> above 0 a decoder that can decode at a reduced size (Skia and TurboJpeg, for JPEG) may return
    /// the smallest such size whose width and height are both at least <paramref name="minSide"/>; others ignore it.
    /// </remarks>
    Image<Rgba32> DecodeFirstFrame(byte[] bytes, int minSide = 0);
}

public static class FrameDecoders
{
    /// <summary>
    /// The decoder asked for. TurboJpeg falls back to Skia (same pixels, half the JPEG speed) when libturbojpeg cannot be
    /// loaded: the decoder's <see cref="IFrameDecoder.Kind"/> then says Skia, and <paramref name="problem"/> says why.
    /// </summary>
    public static IFrameDecoder Create(DecoderKind kind, Configuration configuration, out string? problem)
    {
        problem = null;
        return kind switch
        {
            DecoderKind.Skia => new SkiaFrameDecoder(configuration),
            DecoderKind.ImageSharp => new ImageSharpFrameDecoder(configuration),
            DecoderKind.TurboJpeg => (IFrameDecoder?)TurboJpegFrameDecoder.TryCreate(configuration, out problem) ?? new SkiaFrameDecoder(configuration),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown decoder."),
        };
    }

    public static IFrameDecoder Create(DecoderKind kind, Configuration configuration) => Create(kind, configuration, out _);
}
