using System.Buffers;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging.Decoding;

/// <summary>
/// Keeps the last full-size pixel buffer a decoder handed out, once its image is disposed, for the next image. A fresh
/// buffer of a large image is new memory from the kernel: for a 12 MP image that is 48 MB of page faults and zeroing, a
/// third of the decode. Buffers over <see cref="MaxKeptBytes"/> are freed, not kept. Thread-safe.
/// </summary>
internal sealed unsafe class PixelBufferCache
{
    /// <summary>The largest buffer kept between images (a 16 MP image).</summary>
    public const long MaxKeptBytes = 64L * 1024 * 1024;

    private Buffer? _spare;

    /// <summary>A buffer of exactly <paramref name="pixels"/> pixels; its contents are whatever the last image left.</summary>
    public IMemoryOwner<Rgba32> Rent(int pixels)
    {
        Buffer? spare = Interlocked.Exchange(ref _spare, null);
        if (spare is not null && spare.Capacity >= pixels)
        {
            return spare.Reuse(pixels);
        }

        spare?.Free();
        return new Buffer(this, pixels);
    }

    private void Return(Buffer buffer)
    {
        if ((long)buffer.Capacity * sizeof(Rgba32) > MaxKeptBytes || Interlocked.CompareExchange(ref _spare, buffer, null) is not null)
        {
            buffer.Free();
        }
    }

    /// <summary>Native memory, freed by its cache rather than by the image that used it (an image never disposed leaks it, as any native buffer).</summary>
    private sealed class Buffer : MemoryManager<Rgba32>
    {
        private readonly PixelBufferCache _cache;
        private readonly Rgba32* _pointer;
        private int _length;
        private int _rented = 1;

        public Buffer(PixelBufferCache cache, int capacity)
        {
            _cache = cache;
            _pointer = (Rgba32*)NativeMemory.Alloc((nuint)capacity, (nuint)sizeof(Rgba32));
            Capacity = _length = capacity;
        }

        public int Capacity { get; }

        public Buffer Reuse(int length)
        {
            _length = length;
            _rented = 1;
            return this;
        }

        public void Free()
        {
            NativeMemory.Free(_pointer);
        }

        public override Span<Rgba32> GetSpan() => new(_pointer, _length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
            // Disposed once per rent: ImageSharp may dispose a buffer group more than once.
            if (Interlocked.Exchange(ref _rented, 0) == 1)
            {
                _cache.Return(this);
            }
        }
    }
}
