using System.Runtime.InteropServices;

namespace ArtGrid.Imaging.Decoding;

/// <summary>
/// The TurboJPEG 2.x API of the system's libjpeg-turbo (Debian: <c>libturbojpeg0</c>, <c>libturbojpeg.so.0</c>), which is
/// built with libjpeg-turbo's SIMD code. Loaded once, by name, at first use; when it is missing, <see cref="Load"/> says
/// why and the caller decodes with Skia instead. The functions are thread-safe on separate handles.
/// </summary>
internal sealed unsafe class TurboJpegLibrary
{
    public const string FileName = "libturbojpeg.so.0";
    public const string InstallHint = "apt-get install -y libturbojpeg0";

    // turbojpeg.h (2.1): pixel formats, colour spaces, flags, error codes.
    public const int PixelFormatRgba = 7;
    public const int ColorspaceCmyk = 3;
    public const int ColorspaceYcck = 4;

    /// <summary>Any warning (corrupt data, a premature end) fails the call instead of filling the rest of the image with grey.</summary>
    public const int FlagStopOnWarning = 8192;

    /// <summary>A progressive JPEG with more than 500 scans fails at once (a known way to make decoders spin; 2.1 and later).</summary>
    public const int FlagLimitScans = 32768;

    private static readonly Lazy<(TurboJpegLibrary? Library, string? Problem)> Shared = new(() => Open(FileName));

    private readonly delegate* unmanaged<nint> _initDecompress;
    private readonly delegate* unmanaged<nint, byte*, nuint, int*, int*, int*, int*, int> _decompressHeader3;
    private readonly delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int> _decompress2;
    private readonly delegate* unmanaged<nint, int> _destroy;
    private readonly delegate* unmanaged<nint, byte*> _getErrorStr2;

    private TurboJpegLibrary(nint library)
    {
        _initDecompress = (delegate* unmanaged<nint>)NativeLibrary.GetExport(library, "tjInitDecompress");
        _decompressHeader3 = (delegate* unmanaged<nint, byte*, nuint, int*, int*, int*, int*, int>)NativeLibrary.GetExport(library, "tjDecompressHeader3");
        _decompress2 = (delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int>)NativeLibrary.GetExport(library, "tjDecompress2");
        _destroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(library, "tjDestroy");
        _getErrorStr2 = (delegate* unmanaged<nint, byte*>)NativeLibrary.GetExport(library, "tjGetErrorStr2");
    }

    /// <summary>The library, or null and why not (not installed, or too old to have the functions used here).</summary>
    public static TurboJpegLibrary? Load(out string? problem)
    {
        (TurboJpegLibrary? library, problem) = Shared.Value;
        return library;
    }

    public nint InitDecompress() => _initDecompress();

    public void Destroy(nint handle) => _ = _destroy(handle);

    /// <summary>Width, height and colour space from the header; false (with the library's message) when it is invalid.</summary>
    public bool ReadHeader(nint handle, ReadOnlySpan<byte> jpeg, out int width, out int height, out int colorspace, out string? error)
    {
        int w, h, subsampling, space;
        fixed (byte* source = jpeg)
        {
            if (_decompressHeader3(handle, source, (nuint)jpeg.Length, &w, &h, &subsampling, &space) != 0)
            {
                (width, height, colorspace, error) = (0, 0, 0, ErrorMessage(handle));
                return false;
            }
        }

        (width, height, colorspace, error) = (w, h, space, null);
        return true;
    }

    /// <summary>
    /// Decodes into <paramref name="rgba"/> (width x height x 4 bytes), scaled to the one k/8 factor that gives exactly
    /// width x height; false with the library's message on any error or warning.
    /// </summary>
    public bool DecodeRgba(nint handle, ReadOnlySpan<byte> jpeg, byte* rgba, int width, int height, out string? error)
    {
        fixed (byte* source = jpeg)
        {
            if (_decompress2(handle, source, (nuint)jpeg.Length, rgba, width, width * 4, height, PixelFormatRgba, FlagStopOnWarning | FlagLimitScans) != 0)
            {
                error = ErrorMessage(handle);
                return false;
            }
        }

        error = null;
        return true;
    }

    private string ErrorMessage(nint handle) => Marshal.PtrToStringUTF8((nint)_getErrorStr2(handle)) ?? "unknown TurboJPEG error";

    /// <summary>Loads <paramref name="fileName"/> as the TurboJPEG library (once per process: see <see cref="Load"/>).</summary>
    internal static (TurboJpegLibrary? Library, string? Problem) Open(string fileName)
    {
        if (!NativeLibrary.TryLoad(fileName, out nint library))
        {
            return (null, $"{fileName} was not found ({InstallHint})");
        }

        try
        {
            return (new TurboJpegLibrary(library), null);
        }
        catch (EntryPointNotFoundException ex)
        {
            return (null, $"{fileName} lacks a TurboJPEG 2 function ({ex.Message}); libjpeg-turbo 2.1 or later is needed ({InstallHint})");
        }
    }
}
