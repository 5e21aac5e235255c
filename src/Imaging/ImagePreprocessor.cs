using ArtGrid.Imaging.Decoding;
using ArtGrid.Imaging.Provenance;
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

namespace ArtGrid.Imaging;

/// <summary>
/// Turns untrusted bytes into a model input tensor: identify before decode (format allow-list, pixel cap,
/// truncation), decode the first frame, apply EXIF orientation, composite transparency over white (as the
/// training set was), resize to the model's square, pack. Thread-safe; CPU-bound: call it off the grain scheduler.
/// </summary>
public sealed class ImagePreprocessor
{
    /// <summary>
    /// PNG text (tEXt, zTXt, iTXt, all chunks together) over this many bytes is left out of what the decoder reads
    /// (<see cref="ContainerChecks.PngWithoutLargeText"/>); generators' settings and ComfyUI workflows stay well under it.
    /// </summary>
    public const int MaxPngTextForDecoder = 1 << 20;

    private readonly PreprocessingOptions _options;
    private readonly Configuration _configuration;
    private readonly IFrameDecoder _decoder;
    private readonly C2paTrustList? _trust;

    public ImagePreprocessor(IOptions<PreprocessingOptions> options)
    {
        _options = options.Value;
        _configuration = CreateConfiguration(_options);
        _decoder = FrameDecoders.Create(_options.Decoder, _configuration, out string? problem);
        _trust = C2paTrustList.FromOption(_options.C2paTrustAnchors);
        DecoderProblem = problem is null ? null : $"the {_options.Decoder} decoder is not available, {_decoder.Kind} decodes instead: {problem}";
    }

    /// <summary>The ImageSharp configuration the decoders and the pipeline use: bounded pool, contiguous buffers, GIF's first frame.</summary>
    public static Configuration CreateConfiguration(PreprocessingOptions options)
    {
        Configuration configuration = Configuration.Default.Clone();
        // Half the pool for ImageSharp's small buffers, half kept for whole large images (see LargeBufferAllocator).
        long poolBytes = (long)options.MaxPoolMegabytes * 1024 * 1024;
        configuration.MemoryAllocator = new LargeBufferAllocator(
            MemoryAllocator.Create(new MemoryAllocatorOptions { MaximumPoolSizeMegabytes = Math.Max(1, options.MaxPoolMegabytes / 2) }),
            retainBytes: poolBytes / 2);

        // Skia and TurboJPEG decode into the image's own buffer, which must be one block.
        configuration.PreferContiguousImageBuffers = true;
        if (options.MaxDegreeOfParallelism is { } parallelism)
        {
            configuration.MaxDegreeOfParallelism = parallelism;
        }

        // Animated GIF: decode the first frame only.
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        return configuration;
    }

    /// <summary>The decoder that runs: the one configured, or Skia where TurboJpeg's library is missing (<see cref="DecoderProblem"/>).</summary>
    public DecoderKind Decoder => _decoder.Kind;

    /// <summary>Why the configured decoder is not the one that runs; null when it is.</summary>
    public string? DecoderProblem { get; }

    /// <param name="keepOriented">Also return the image as scored, before resizing (<see cref="PreparedImage.Oriented"/>), for activation maps; with <see cref="ImageFit.Crop"/>, the window scored.</param>
    public PreparedImage Prepare(byte[] bytes, ModelInputSpec spec, bool keepOriented = false)
    {
        PreparedImage result = Decode(bytes, spec.Framing, keepOriented, out Image<Rgb24>? image, out Image<Rgb24>? oriented);
        using (oriented)
        {
            if (image is null)
            {
                return result;
            }

            using (image)
            {
                return result with { Tensor = TensorPacker.Pack(image, spec), Oriented = ToOriented(oriented) };
            }
        }
    }

    /// <summary>The RGB bytes of <paramref name="image"/>, or null.</summary>
    private static OrientedImage? ToOriented(Image<Rgb24>? image)
    {
        if (image is null)
        {
            return null;
        }

        byte[] rgb = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Rgb24>(rgb.AsSpan()));
        return new OrientedImage(image.Width, image.Height, rgb);
    }

    /// <summary>
    /// Decodes, orients and frames to the model's width x height (<see cref="ImageFraming"/>); <paramref name="image"/> is
    /// null when the result carries an error.
    /// <paramref name="onHeader"/> hears the source size once the header has passed the pixel cap, before any pixel is decoded.
    /// The result carries the file's provenance evidence: its metadata blocks (C2PA, EXIF, XMP, PNG text), read from the
    /// bytes here, then what its pixels hold (watermark, alpha-channel metadata), for failures too once the size is accepted.
    /// </summary>
    public PreparedImage Decode(byte[] bytes, ImageFraming framing, out Image<Rgb24>? image, Action<int, int>? onHeader = null) =>
        Decode(bytes, framing, keepOriented: false, out image, out _, onHeader);

    /// <summary>
    /// As <see cref="Decode(byte[], ImageFraming, out Image{Rgb24}?, Action{int, int}?)"/>; with <paramref name="keepOriented"/>,
    /// <paramref name="oriented"/> is also the image before resizing (EXIF-oriented, over white), from the same decode.
    /// </summary>
    public PreparedImage Decode(byte[] bytes, ImageFraming framing, bool keepOriented, out Image<Rgb24>? image, out Image<Rgb24>? oriented, Action<int, int>? onHeader = null)
    {
        PreparedImage result = DecodePixels(bytes, framing, keepOriented, out image, out oriented, onHeader);
        if (result.Error is { Code: ErrorCodes.EmptyFile or ErrorCodes.TooLarge })
        {
            return result;
        }

        IReadOnlyList<Evidence> metadata = ProvenanceReader.Read(bytes, trust: _trust);
        IReadOnlyList<Evidence> pixels = result.Evidence ?? [];
        return result with { Evidence = [.. metadata, .. pixels.Where(p => !metadata.Any(e => e.Signal == p.Signal))] };
    }

    private PreparedImage DecodePixels(byte[] bytes, ImageFraming framing, bool keepOriented, out Image<Rgb24>? image, out Image<Rgb24>? oriented, Action<int, int>? onHeader)
    {
        image = null;
        oriented = null;
        if (ImageLimits.CheckLength(bytes.Length, _options.MaxBytes) is { } refused)
        {
            return new PreparedImage(null, refused, null, 0, 0);
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

        // Megabytes of PNG text cost the decoder time out of all proportion to the pixels (its header read included):
        // it reads the image without them.
        byte[] pixelBytes = format is PngFormat ? ContainerChecks.PngWithoutLargeText(bytes, MaxPngTextForDecoder) : bytes;

        int sourceWidth, sourceHeight;
        try
        {
            (sourceWidth, sourceHeight) = _decoder.ReadSize(pixelBytes);
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            return PreparedImage.Fail(ErrorCodes.DecodeFailed, $"The {formatName} header is invalid: {ex.Message}", formatName);
        }

        if (sourceWidth <= 0 || sourceHeight <= 0)
        {
            return PreparedImage.Fail(ErrorCodes.DecodeFailed, $"The {formatName} header could not be read.", formatName);
        }

        long pixels = (long)sourceWidth * sourceHeight;
        if (pixels > _options.MaxPixels)
        {
            return PreparedImage.Fail(
                ErrorCodes.TooLarge,
                $"The image claims {sourceWidth}x{sourceHeight} = {pixels} pixels; the limit is {_options.MaxPixels}.",
                formatName, sourceWidth, sourceHeight);
        }

        onHeader?.Invoke(sourceWidth, sourceHeight);

        bool complete = format switch
        {
            JpegFormat => ContainerChecks.JpegHasEndOfImage(bytes),
            PngFormat => ContainerChecks.PngHasEnd(bytes),
            _ => true,
        };
        if (!complete)
        {
            return PreparedImage.Fail(ErrorCodes.DecodeFailed, $"The {formatName} file is truncated.", formatName, sourceWidth, sourceHeight);
        }

        try
        {
            // Large JPEGs may be decoded at a reduced size (both sides at least twice the model's): see ReducedJpegDecode.
            // A crop reads the image's own pixels, so it never takes a reduced decode.
            int minSide = format is JpegFormat && _options.ReducedJpegDecode && pixels > _options.ReducedDecodeMinPixels && framing.Fit == ImageFit.Stretch
                ? 2 * Math.Max(framing.Width, framing.Height)
                : 0;
            using Image<Rgba32> decoded = _decoder.DecodeFirstFrame(pixelBytes, minSide);
            bool fullSize = decoded.Width == sourceWidth && decoded.Height == sourceHeight;

            // The watermark and stealth metadata (NovelAI's, A1111's) live in the pixels as the generator wrote them: read
            // them before orientation, compositing and resizing. The DWT-DCT watermark needs the full-size chroma; a reduced
            // decode has lost it, so it is not looked for there.
            List<Evidence> pixelEvidence = [];
            if (fullSize && _options.DetectWatermark && DwtDctWatermark.Detect(decoded) is { } watermark)
            {
                pixelEvidence.Add(watermark);
            }

            if (StealthMetadata.Read(decoded) is { } stealth)
            {
                pixelEvidence.Add(stealth);
            }

            if (keepOriented && framing.Fit == ImageFit.Stretch)
            {
                // The same decode as the tensor's, oriented and over white like it, before the resize.
                using Image<Rgba32> full = decoded.Clone(x =>
                {
                    x.AutoOrient();
                    x.BackgroundColor(Color.White);
                });
                oriented = full.CloneAs<Rgb24>();
            }

            if (framing.Fit == ImageFit.Crop)
            {
                decoded.Mutate(x =>
                {
                    x.AutoOrient();
                    x.BackgroundColor(Color.White);
                });
                (int scaledWidth, int scaledHeight, int left, int top) = framing.CropWindow(decoded.Width, decoded.Height);
                decoded.Mutate(x =>
                {
                    if (scaledWidth != decoded.Width || scaledHeight != decoded.Height)
                    {
                        x.Resize(new ResizeOptions { Size = new Size(scaledWidth, scaledHeight), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Bicubic });
                    }

                    x.Crop(new Rectangle(left, top, framing.Width, framing.Height));
                });
            }
            else
            {
                decoded.Mutate(x =>
                {
                    x.AutoOrient();
                    x.Resize(new ResizeOptions
                    {
                        Size = new Size(framing.Width, framing.Height),
                        Mode = ResizeMode.Stretch,
                        Sampler = KnownResamplers.Bicubic,
                    });
                    x.BackgroundColor(Color.White);
                });
            }

            image = decoded.CloneAs<Rgb24>();
            if (keepOriented && framing.Fit == ImageFit.Crop)
            {
                // A crop scores exactly its window: that is the image its activation map covers.
                oriented = image.Clone();
            }

            return new PreparedImage(null, null, formatName, sourceWidth, sourceHeight, pixelEvidence);
        }
        catch (Exception ex) when (IsDecoderFailure(ex))
        {
            oriented?.Dispose();
            oriented = null;
            return PreparedImage.Fail(ErrorCodes.DecodeFailed, $"The {formatName} image could not be decoded: {ex.Message}", formatName, sourceWidth, sourceHeight);
        }
    }

    // Decoders signal hostile input with many exception types (ImageSharp 2.1 throws IndexOutOfRange on some
    // valid PNGs). Anything but out-of-memory and cancellation is a per-image failure, never a crash.
    private static bool IsDecoderFailure(Exception ex) => ex is not (OutOfMemoryException or OperationCanceledException);
}
