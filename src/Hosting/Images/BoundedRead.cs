using System.Buffers;

namespace ArtGrid.Hosting.Images;

/// <summary>Reads a stream whose length is not to be trusted, stopping one byte past a limit.</summary>
internal static class BoundedRead
{
    private const int BufferSize = 81920;

    /// <summary>
    /// All of <paramref name="stream"/>, or null as soon as it proves longer than <paramref name="limit"/> bytes (it never
    /// asks for more than one byte past the limit: that byte is enough to know). <paramref name="expected"/> sizes the
    /// output up front when the length is announced.
    /// </summary>
    public static async Task<byte[]?> ReadAtMostAsync(Stream stream, int limit, long expected, CancellationToken cancellationToken)
    {
        using var output = new MemoryStream((int)Math.Clamp(expected, 0, limit));
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            while (true)
            {
                int wanted = (int)Math.Min(buffer.Length, limit + 1L - total);
                int read = await stream.ReadAsync(buffer.AsMemory(0, wanted), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return output.ToArray();
                }

                total += read;
                if (total > limit)
                {
                    return null;
                }

                output.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
