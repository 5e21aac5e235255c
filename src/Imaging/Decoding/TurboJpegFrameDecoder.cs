using System.Buffers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging.Decoding;

/// <summary>
/// JPEGs through the system's libjpeg-turbo with its SIMD code (the TurboJPEG API, <see cref="TurboJpegLibrary"/>),
/// every other format through Skia. Skia's bundled libjpeg-turbo gives the same pixels (the same library and settings:
/// accurate integer IDCT, fancy upsampling, no colour management) at about half the speed on this hardware.
/// </summary>
/// <remarks>
/// Only clean decodes are taken from TurboJPEG. A JPEG it refuses or warns about (corrupt data, a premature end, too
/// many scans) and the CMYK and YCCK JPEGs it cannot turn into RGB go to Skia, which decides as before: every file
/// accepted or refused by the Skia decoder is accepted or refused here with the same message.
/// </remarks>
public sealed class TurboJpegFrameDecoder : IFrameDecoder
{
    private readonly Configuration _configuration;
    private readonly TurboJpegLibrary _library;
    private readonly SkiaFrameDecoder _skia;

    private TurboJpegFrameDecoder(Configuration configuration, TurboJpegLibrary library)
    {
        _configuration = configuration;
        _library = library;
        _skia = new SkiaFrameDecoder(configuration);
    }

    public DecoderKind Kind => DecoderKind.TurboJpeg;

    /// <summary>Null, with <paramref name="problem"/> saying why, when libturbojpeg cannot be loaded.</summary>
    public static TurboJpegFrameDecoder? TryCreate(Configuration configuration, out string? problem) =>
        TurboJpegLibrary.Load(out problem) is { } library ? new TurboJpegFrameDecoder(configuration, library) : null;

    public (int Width, int Height) ReadSize(byte[] bytes)
    {
        if (IsJpeg(bytes))
        {
            nint handle = _library.InitDecompress();
            try
            {
                // A header TurboJPEG takes with an empty size goes to Skia too, for Skia's message.
                if (_library.ReadHeader(handle, bytes, out int width, out int height, out _, out _) && width > 0 && height > 0)
                {
                    return (width, height);
                }
            }
            finally
            {
                _library.Destroy(handle);
            }
        }

        return _skia.ReadSize(bytes);
    }

    public Image<Rgba32> DecodeFirstFrame(byte[] bytes, int minSide = 0) =>
        IsJpeg(bytes) && TryDecodeJpeg(bytes, minSide) is { } image ? image : _skia.DecodeFirstFrame(bytes, minSide);

    /// <summary>The JPEG decoded by TurboJPEG itself; null where it leaves the file to Skia.</summary>
    internal unsafe Image<Rgba32>? TryDecodeJpeg(byte[] bytes, int minSide)
    {
        nint handle = _library.InitDecompress();
        try
        {
            if (!_library.ReadHeader(handle, bytes, out int width, out int height, out int colorspace, out _)
                || width <= 0 || height <= 0
                || colorspace is TurboJpegLibrary.ColorspaceCmyk or TurboJpegLibrary.ColorspaceYcck)
            {
                return null;
            }

            (int outWidth, int outHeight) = minSide > 0 ? ReducedSize(width, height, minSide) : (width, height);

            var image = new Image<Rgba32>(_configuration, outWidth, outHeight);
            try
            {
                if (!image.DangerousTryGetSinglePixelMemory(out Memory<Rgba32> pixels))
                {
                    throw new InvalidOperationException("The image buffer is not contiguous; the configuration must prefer contiguous buffers.");
                }

                bool decoded;
                using (MemoryHandle pin = pixels.Pin())
                {
                    decoded = _library.DecodeRgba(handle, bytes, (byte*)pin.Pointer, outWidth, outHeight, out _);
                }

                if (!decoded)
                {
                    image.Dispose();
                    return null;
                }

                if (JpegOrientation.Read(bytes) is var origin and not 1)
                {
                    var exif = new ExifProfile();
                    exif.SetValue(ExifTag.Orientation, origin);
                    image.Metadata.ExifProfile = exif;
                }

                return image;
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }
        finally
        {
            _library.Destroy(handle);
        }
    }

    /// <summary>
    /// The smallest k/8 scale (k = 1..7) whose width and height are both at least <paramref name="minSide"/>, rounded up as
    /// libjpeg-turbo rounds (the sizes Skia's reduced decode gives); the full size when none is.
    /// </summary>
    internal static (int Width, int Height) ReducedSize(int width, int height, int minSide)
    {
        for (int eighths = 1; eighths < 8; eighths++)
        {
            int w = (int)(((long)width * eighths + 7) / 8), h = (int)(((long)height * eighths + 7) / 8);
            if (w >= minSide && h >= minSide)
            {
                return (w, h);
            }
        }

        return (width, height);
    }

    private static bool IsJpeg(ReadOnlySpan<byte> bytes) => bytes is [0xFF, 0xD8, 0xFF, ..];
}
