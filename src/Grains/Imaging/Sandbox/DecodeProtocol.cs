using System.Buffers.Binary;
using ArtGrid.Abstractions;

namespace ArtGrid.Grains.Imaging.Sandbox;

internal enum DecodeMessage : byte
{
    /// <summary>Worker to supervisor, once: started and warmed up. Process id, decoder name.</summary>
    Ready = 1,

    /// <summary>Supervisor to worker: request id, target width and height, then the image bytes.</summary>
    Decode = 2,

    /// <summary>Worker to supervisor: the header passed the pixel cap. Request id, source width and height.</summary>
    Header = 3,

    /// <summary>Worker to supervisor: request id, then an error or the format, size, evidence and resized RGB pixels.</summary>
    Result = 4,
}

/// <summary>
/// The framed protocol between the supervisor and a decode worker over the worker's stdin and stdout: a little-endian
/// int32 payload length, then the payload, whose first byte is a <see cref="DecodeMessage"/>. Strings are
/// length-prefixed UTF-8 (BinaryWriter). Either side refuses a frame longer than it expects.
/// </summary>
internal static class DecodeProtocol
{
    /// <summary>Everything but image bytes and pixels fits in this.</summary>
    public const int MaxControlBytes = 1 << 20;

    public static async Task WriteFrameAsync(Stream stream, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        byte[] length = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, payload.Length);
        await stream.WriteAsync(length, cancellationToken);
        await stream.WriteAsync(payload, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    public static void WriteFrame(Stream stream, ReadOnlySpan<byte> payload)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, payload.Length);
        stream.Write(length);
        stream.Write(payload);
        stream.Flush();
    }

    /// <summary>The next frame's payload; null at a clean end of stream. Throws on a frame over <paramref name="maxLength"/> or cut short.</summary>
    public static async Task<byte[]?> ReadFrameAsync(Stream stream, int maxLength, CancellationToken cancellationToken = default)
    {
        byte[] header = new byte[4];
        int read = await stream.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, cancellationToken);
        if (read == 0)
        {
            return null;
        }

        if (read < 4)
        {
            throw new EndOfStreamException("The stream ended inside a frame header.");
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 1 || length > maxLength)
        {
            throw new InvalidDataException($"A frame of {length} bytes; at most {maxLength} are expected.");
        }

        byte[] payload = new byte[length];
        await stream.ReadExactlyAsync(payload, cancellationToken);
        return payload;
    }

    public static byte[] DecodeRequest(int id, int width, int height, byte[] image)
    {
        byte[] payload = new byte[13 + image.Length];
        payload[0] = (byte)DecodeMessage.Decode;
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(1), id);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(5), width);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(9), height);
        image.CopyTo(payload, 13);
        return payload;
    }

    public static (int Id, int Width, int Height, byte[] Image) ReadDecodeRequest(byte[] payload)
    {
        if (payload.Length < 13 || payload[0] != (byte)DecodeMessage.Decode)
        {
            throw new InvalidDataException("Not a decode request.");
        }

        return (
            BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(1)),
            BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(5)),
            BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(9)),
            payload[13..]);
    }

    public static byte[] Ready(int processId, string decoder) => Build(DecodeMessage.Ready, w =>
    {
        w.Write(processId);
        w.Write(decoder);
    });

    public static byte[] Header(int id, int width, int height) => Build(DecodeMessage.Header, w =>
    {
        w.Write(id);
        w.Write(width);
        w.Write(height);
    });

    public static byte[] Result(int id, PreparedImage prepared, ReadOnlySpan<byte> pixels)
    {
        using var buffer = new MemoryStream(64 + pixels.Length);
        using (var w = new BinaryWriter(buffer))
        {
            w.Write((byte)DecodeMessage.Result);
            w.Write(id);
            w.Write(prepared.Error is null);
            if (prepared.Error is { } error)
            {
                w.Write(error.Code);
                w.Write(error.Message);
            }

            w.Write(prepared.Format ?? "");
            w.Write(prepared.Width);
            w.Write(prepared.Height);
            IReadOnlyList<Evidence> evidence = prepared.PixelEvidence ?? [];
            w.Write(evidence.Count);
            foreach (Evidence e in evidence)
            {
                w.Write(e.Signal);
                w.Write(e.Strength);
                w.Write(e.Detail);
                w.Write(e.Indicates);
            }

            w.Write(pixels.Length);
            w.Write(pixels);
        }

        return buffer.ToArray();
    }

    /// <summary>A worker's message, parsed. Pixels are set only on a successful result.</summary>
    public sealed record WorkerMessage(DecodeMessage Kind, int Id, int ProcessId = 0, string? Decoder = null, PreparedImage Prepared = default, byte[]? Pixels = null);

    public static WorkerMessage ReadWorkerMessage(byte[] payload)
    {
        using var r = new BinaryReader(new MemoryStream(payload, writable: false));
        var kind = (DecodeMessage)r.ReadByte();
        switch (kind)
        {
            case DecodeMessage.Ready:
                return new WorkerMessage(kind, 0, ProcessId: r.ReadInt32(), Decoder: r.ReadString());
            case DecodeMessage.Header:
                int headerId = r.ReadInt32();
                return new WorkerMessage(kind, headerId, Prepared: new PreparedImage(null, null, null, r.ReadInt32(), r.ReadInt32()));
            case DecodeMessage.Result:
                int id = r.ReadInt32();
                bool ok = r.ReadBoolean();
                ImageError? error = ok ? null : new ImageError(r.ReadString(), r.ReadString());
                string format = r.ReadString();
                int width = r.ReadInt32(), height = r.ReadInt32();
                int count = r.ReadInt32();
                if (count is < 0 or > 64)
                {
                    throw new InvalidDataException($"{count} evidence entries.");
                }

                var evidence = new Evidence[count];
                for (int i = 0; i < count; i++)
                {
                    evidence[i] = new Evidence(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString());
                }

                int pixelLength = r.ReadInt32();
                byte[] pixels = r.ReadBytes(pixelLength);
                if (pixels.Length != pixelLength || r.BaseStream.Position != payload.Length)
                {
                    throw new InvalidDataException("The result's pixel block does not match its length.");
                }

                return new WorkerMessage(kind, id, Prepared: new PreparedImage(null, error, format.Length == 0 ? null : format, width, height, evidence), Pixels: ok ? pixels : null);
            default:
                throw new InvalidDataException($"Unknown message type {(byte)kind}.");
        }
    }

    private static byte[] Build(DecodeMessage kind, Action<BinaryWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            w.Write((byte)kind);
            write(w);
        }

        return buffer.ToArray();
    }
}
