using ArtGrid.Abstractions;
using ArtGrid.Grains.Provenance;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Grains.Imaging;

/// <summary>
/// Turns untrusted bytes into a model input tensor: identify before decode (format allow-list, pixel cap,
/// truncation), decode the first frame, apply EXIF orientation, composite transparency over white (as the
/// training set was), resize to the model's square, pack. Thread-safe; CPU-bound: call it off the grain scheduler.
/// </summary>
public sealed class ImagePreprocessor
{
    private readonly PreprocessingOptions _options;
    private readonly Configuration _configuration;

    public ImagePreprocessor(IOptions<PreprocessingOptions> options)
    {
        _options = options.Value;
        _configuration = Configuration.Default.Clone();
        _configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
        {
            MaximumPoolSizeMegabytes = _options.MaxPoolMegabytes,
        });

        // Animated GIF: decode the first frame only. (ImageSharp 2.1's WebP decoder has no such switch; extra WebP
        // frames are dropped after decoding.)
        _configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
    }

    public PreparedImage Prepare(byte[] bytes, ModelInputSpec spec)
    {
        PreparedImage result = Decode(bytes, spec.Width, spec.Height, out Image<Rgb24>? image);
        if (image is null)
        {
            return result;
        }

        using (image)
        {
            return result with { Tensor = TensorPacker.Pack(image, spec) };
        }
    }

    /// <summary>Decodes, orients and resizes to width x height; <paramref name="image"/> is null when the result carries an error.</summary>
    public PreparedImage Decode(byte[] bytes, int width, int height, out Image<Rgb24>? image)
    {
        image = null;
        if (bytes.Length == 0)
        {
            return PreparedImage.Fail(ErrorCodes.EmptyFile, "The file is empty.");
        }

        if (bytes.Length > _options.MaxBytes)
        {
            return PreparedImage.Fail(ErrorCodes.TooLarge, $"The file has {bytes.Length} bytes; the limit is {_options.MaxBytes}.");
        }

        IImageFormat? format = Image.DetectFormat(_configuration, bytes);
        if (format is null)
        {
            return PreparedImage.Fail(ErrorCodes.UnsupportedFormat, "Not a recognised image format (JPEG, PNG, WebP, GIF or BMP).");
        }

        string formatName = format.Name.ToUpperInvariant();
        if (!ImageFormats.Allowed.Contains(formatName))
        {
            return PreparedImage.Fail(ErrorCodes.UnsupportedFormat, $"{format.Name} images are not accepted (allowed: JPEG, PNG, WebP, GIF, BMP).", formatName);
        }

        IImageInfo? info;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            info = Image.Identify(_configuration, stream);
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            return PreparedImage.Fail(ErrorCodes.DecodeFailed, $"The {formatName} header is invalid: {ex.Message}", formatName);
        }

        if (info is null || info.Width <= 0 || info.Height <= 0)
        {
            return PreparedImage.Fail(ErrorCodes.DecodeFailed, $"The {formatName} header could not be read.", formatName);
        }

        long pixels = (long)info.Width * info.Height;
        if (pixels > _options.MaxPixels)
        {
            return PreparedImage.Fail(
                ErrorCodes.TooLarge,
                $"The image claims {info.Width}x{info.Height} = {pixels} pixels; the limit is {_options.MaxPixels}.",
                formatName, info.Width, info.Height);
        }

        bool complete = format switch
        {
            JpegFormat => ContainerChecks.JpegHasEndOfImage(bytes),
            PngFormat => ContainerChecks.PngHasEnd(bytes),
            _ => true,
        };
        if (!complete)
        {
            return PreparedImage.Fail(ErrorCodes.DecodeFailed, $"The {formatName} file is truncated.", formatName, info.Width, info.Height);
        }

        try
        {
            using Image<Rgba32> decoded = Image.Load<Rgba32>(_configuration, bytes);
            while (decoded.Frames.Count > 1)
            {
                decoded.Frames.RemoveFrame(decoded.Frames.Count - 1);
            }

            // The watermark and NovelAI's alpha-channel metadata live in the pixels as the generator wrote them: read them
            // before orientation, compositing and resizing.
            List<Evidence> pixelEvidence = [];
            if (_options.DetectWatermark && DwtDctWatermark.Detect(decoded) is { } watermark)
            {
                pixelEvidence.Add(watermark);
            }

            if (StealthMetadata.Read(decoded) is { } stealth)
            {
                pixelEvidence.Add(stealth);
            }

            decoded.Mutate(x => x
                .AutoOrient()
                .Resize(new ResizeOptions
                {
                    Size = new Size(width, height),
                    Mode = ResizeMode.Stretch,
                    Sampler = KnownResamplers.Bicubic,
                })
                .BackgroundColor(Color.White));
            image = decoded.CloneAs<Rgb24>();
            return new PreparedImage(null, null, formatName, info.Width, info.Height, pixelEvidence);
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            return PreparedImage.Fail(ErrorCodes.DecodeFailed, $"The {formatName} image could not be decoded: {ex.Message}", formatName, info.Width, info.Height);
        }
    }

    // Decoders signal hostile input with many exception types (ImageSharp 2.1 throws IndexOutOfRange on some
    // valid PNGs). Anything but out-of-memory and cancellation is a per-image failure, never a crash.
    private static bool IsDecoderFailure(Exception ex) => ex is not (OutOfMemoryException or OperationCanceledException);
}
