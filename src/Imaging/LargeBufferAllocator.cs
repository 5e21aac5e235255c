using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp.Memory;

namespace ArtGrid.Imaging;

/// <summary>
/// ImageSharp's allocator, except that buffers of <see cref="LargeBytes"/> or more come from native memory that is kept,
/// once the image using it is disposed, for the next image (up to <paramref name="retainBytes"/> in all). ImageSharp's
/// pool keeps only buffers of a few megabytes; a larger one is new memory from the kernel every time, and for a 12 MP
/// image those 48 MB of page faults and zeroing cost about a third of its decode. Every image is one contiguous buffer
/// (the decoders write into it directly). Thread-safe.
/// </summary>
internal sealed class LargeBufferAllocator(MemoryAllocator small, long retainBytes) : MemoryAllocator
{
    /// <summary>Buffers from this size up are kept between images (a 2 MP RGBA image and larger).</summary>
    public const int LargeBytes = 8 * 1024 * 1024;

    private readonly Lock _lock = new();
    private readonly List<Block> _free = [];
    private long _freeBytes;

    public override IMemoryOwner<T> Allocate<T>(int length, AllocationOptions options = AllocationOptions.None)
    {
        long bytes = (long)length * Unsafe.SizeOf<T>();
        if (bytes < LargeBytes)
        {
            return small.Allocate<T>(length, options);
        }

        if (bytes > int.MaxValue)
        {
            throw new InvalidMemoryOperationException($"An image buffer of {bytes} bytes was asked for.");
        }

        var buffer = new Buffer<T>(this, Rent(bytes), length);
        if (options.HasFlag(AllocationOptions.Clean))
        {
            buffer.GetSpan().Clear();
        }

        return buffer;
    }

    public override void ReleaseRetainedResources()
    {
        lock (_lock)
        {
            foreach (Block block in _free)
            {
                block.Free();
            }

            _free.Clear();
            _freeBytes = 0;
        }

        small.ReleaseRetainedResources();
    }

    // One buffer per image, however large: the decoders need contiguous pixels.
    protected override int GetBufferCapacityInBytes() => int.MaxValue;

    /// <summary>The smallest kept block that is large enough, or a new one.</summary>
    private Block Rent(long bytes)
    {
        lock (_lock)
        {
            int best = -1;
            for (int i = 0; i < _free.Count; i++)
            {
                if (_free[i].Bytes >= bytes && (best < 0 || _free[i].Bytes < _free[best].Bytes))
                {
                    best = i;
                }
            }

            if (best >= 0)
            {
                Block block = _free[best];
                _free.RemoveAt(best);
                _freeBytes -= block.Bytes;
                return block;
            }
        }

        return Block.Allocate(bytes);
    }

    private void Return(Block block)
    {
        lock (_lock)
        {
            // Make room by freeing the smallest kept blocks first; a block larger than the whole budget is not kept.
            _free.Sort((a, b) => a.Bytes.CompareTo(b.Bytes));
            while (_free.Count > 0 && _freeBytes + block.Bytes > retainBytes)
            {
                _freeBytes -= _free[0].Bytes;
                _free[0].Free();
                _free.RemoveAt(0);
            }

            if (_freeBytes + block.Bytes <= retainBytes)
            {
                _free.Add(block);
                _freeBytes += block.Bytes;
                return;
            }
        }

        block.Free();
    }

    private readonly unsafe record struct Block(nint Pointer, long Bytes)
    {
        public static Block Allocate(long bytes) => new((nint)NativeMemory.Alloc((nuint)bytes), bytes);

        public void Free() => NativeMemory.Free((void*)Pointer);
    }

    /// <summary>A kept block seen as <typeparamref name="T"/>s; disposing it hands the block back (once).</summary>
    private sealed unsafe class Buffer<T>(LargeBufferAllocator owner, Block block, int length) : MemoryManager<T>
        where T : struct
    {
        private int _returned;

        public override Span<T> GetSpan() => new((void*)block.Pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)block.Pointer + ((long)elementIndex * Unsafe.SizeOf<T>()));

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                owner.Return(block);
            }
        }
    }
}
