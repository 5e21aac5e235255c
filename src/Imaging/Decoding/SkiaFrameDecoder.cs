using System.Buffers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SkiaSharp;

namespace ArtGrid.Imaging.Decoding;

/// <summary>
/// Skia's codecs decode straight into the pixel buffer of an ImageSharp image (one contiguous buffer, no copy), so the
/// rest of the pipeline is the same as with the managed decoder. Skia fills the rows of a truncated or corrupt file
/// with zeros and says so; such a file is refused rather than scored on made-up pixels.
/// </summary>
public sealed class SkiaFrameDecoder(Configuration configuration) : IFrameDecoder
{
    public DecoderKind Kind => DecoderKind.Skia;

    public (int Width, int Height) ReadSize(byte[] bytes)
    {
        using SKData data = SKData.CreateCopy(bytes);
        using SKCodec codec = Open(data);
        return (codec.Info.Width, codec.Info.Height);
    }

    public Image<Rgba32> DecodeFirstFrame(byte[] bytes, int minSide = 0)
    {
        using SKData data = SKData.CreateCopy(bytes);
        using SKCodec codec = Open(data);
        SKImageInfo source = codec.Info;
        if (source.Width <= 0 || source.Height <= 0)
        {
            throw new InvalidImageContentException($"The header gives an empty size ({source.Width}x{source.Height}).");
        }

        SKSizeI size = minSide > 0 && codec.EncodedFormat == SKEncodedImageFormat.Jpeg ? ReducedSize(codec, minSide) : source.Size;
        var target = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var image = new Image<Rgba32>(configuration, size.Width, size.Height);
        try
        {
            if (!image.DangerousTryGetSinglePixelMemory(out Memory<Rgba32> pixels))
            {
                throw new InvalidOperationException("The image buffer is not contiguous; the configuration must prefer contiguous buffers.");
            }

            SKCodecResult result;
            using (MemoryHandle pin = pixels.Pin())
            {
                unsafe
                {
                    result = codec.GetPixels(target, (IntPtr)pin.Pointer);
                }
            }

            if (result != SKCodecResult.Success)
            {
                throw new InvalidImageContentException(result switch
                {
                    SKCodecResult.IncompleteInput => "The file ends before the image does.",
                    SKCodecResult.ErrorInInput => "The image data is corrupt.",
                    _ => $"Skia could not decode the image ({result}).",
                });
            }

            if (codec.EncodedOrigin is not SKEncodedOrigin.TopLeft and var origin)
            {
                var exif = new ExifProfile();
                exif.SetValue(ExifTag.Orientation, (ushort)origin);
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

    // libjpeg-turbo scales by k/8 while decoding the DCT blocks: the smallest such size with both sides >= minSide.
    private static SKSizeI ReducedSize(SKCodec codec, int minSide)
    {
        for (int eighths = 1; eighths < 8; eighths++)
        {
            SKSizeI size = codec.GetScaledDimensions(eighths / 8f);
            if (size.Width >= minSide && size.Height >= minSide)
            {
                return size;
            }
        }

        return codec.Info.Size;
    }

    // The codec owns the stream; the stream reads the data without copying it.
    private static SKCodec Open(SKData data) =>
        SKCodec.Create(new SKMemoryStream(data), out SKCodecResult result) is { } codec
            ? codec
            : throw new InvalidImageContentException(result == SKCodecResult.IncompleteInput ? "The file ends inside the header." : $"The header is invalid ({result}).");
}
