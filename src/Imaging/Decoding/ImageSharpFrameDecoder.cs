using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging.Decoding;

/// <summary>ImageSharp 2.1 decoding. The configuration decides the allocator and that GIFs decode their first frame only.</summary>
public sealed class ImageSharpFrameDecoder(Configuration configuration) : IFrameDecoder
{
    public DecoderKind Kind => DecoderKind.ImageSharp;

    public (int Width, int Height) ReadSize(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        IImageInfo info = Image.Identify(configuration, stream) ?? throw new InvalidImageContentException("The header could not be read.");
        return (info.Width, info.Height);
    }

    public Image<Rgba32> DecodeFirstFrame(byte[] bytes, int minSide = 0)
    {
        Image<Rgba32> decoded = Image.Load<Rgba32>(configuration, bytes);

        // ImageSharp 2.1's WebP decoder has no first-frame switch; extra frames are dropped after decoding.
        while (decoded.Frames.Count > 1)
        {
            decoded.Frames.RemoveFrame(decoded.Frames.Count - 1);
        }

        return decoded;
    }
}
