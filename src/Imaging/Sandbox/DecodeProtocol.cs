using System.Buffers.Binary;

namespace ArtGrid.Imaging.Sandbox;

internal enum DecodeMessage : byte
{
    /// <summary>Worker to supervisor, once: started and warmed up. Process id, decoder name.</summary>
    Ready = 1,

    /// <summary>Supervisor to worker: request id, target width and height, keep-oriented flag, fit, longest side, then the image bytes.</summary>
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

    private const int RequestHeaderBytes = 19;

    /// <summary>
    /// Writes a decode request: the frame header and request fields, then the image bytes as they are (no copy). With
    /// <paramref name="keepOriented"/> the worker also sends the image as scored, before resizing.
    /// </summary>
    public static async Task WriteDecodeRequestAsync(Stream stream, int id, ImageFraming framing, byte[] image, bool keepOriented = false, CancellationToken cancellationToken = default)
    {
        byte[] header = new byte[4 + RequestHeaderBytes];
        BinaryPrimitives.WriteInt32LittleEndian(header, RequestHeaderBytes + image.Length);
        header[4] = (byte)DecodeMessage.Decode;
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(5), id);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(9), framing.Width);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(13), framing.Height);
        header[17] = keepOriented ? (byte)1 : (byte)0;
        header[18] = (byte)framing.Fit;
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(19), framing.MaxSide);
        await stream.WriteAsync(header, cancellationToken);
        await stream.WriteAsync(image, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Reads a decode request straight into an array of the image's size; null at a clean end of stream.</summary>
    public static (int Id, ImageFraming Framing, byte[] Image, bool KeepOriented)? ReadDecodeRequest(Stream stream, int maxImageBytes)
    {
        Span<byte> header = stackalloc byte[4 + RequestHeaderBytes];
        int read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (read == 0)
        {
            return null;
        }

        if (read < header.Length)
        {
            throw new EndOfStreamException("The stream ended inside a request header.");
        }

        int imageBytes = BinaryPrimitives.ReadInt32LittleEndian(header) - RequestHeaderBytes;
        if (header[4] != (byte)DecodeMessage.Decode || imageBytes < 0 || imageBytes > maxImageBytes || !Enum.IsDefined((ImageFit)header[18]))
        {
            throw new InvalidDataException($"Not a decode request of at most {maxImageBytes} bytes.");
        }

        byte[] image = new byte[imageBytes];
        stream.ReadExactly(image);
        return (
            BinaryPrimitives.ReadInt32LittleEndian(header[5..]),
            new ImageFraming(
                BinaryPrimitives.ReadInt32LittleEndian(header[9..]),
                BinaryPrimitives.ReadInt32LittleEndian(header[13..]),
                (ImageFit)header[18],
                BinaryPrimitives.ReadInt32LittleEndian(header[19..])),
            image,
            header[17] != 0);
    }

    public static byte[] Ready(int processId, string decoder, string confinement) => Build(DecodeMessage.Ready, w =>
    {
        w.Write(processId);
        w.Write(decoder);
        w.Write(confinement);
    });

    public static byte[] Header(int id, int width, int height) => Build(DecodeMessage.Header, w =>
    {
        w.Write(id);
        w.Write(width);
        w.Write(height);
    });

    /// <summary>
    /// Writes a result frame: the small fields, then the pixels as they are (no copy), then the oriented image's pixels
    /// (<paramref name="orientedWidth"/> x <paramref name="orientedHeight"/> RGB) when the request asked for them.
    /// </summary>
    public static void WriteResult(Stream stream, int id, PreparedImage prepared, ReadOnlySpan<byte> pixels, int orientedWidth = 0, int orientedHeight = 0, ReadOnlySpan<byte> oriented = default)
    {
        if (oriented.Length != orientedWidth * orientedHeight * 3)
        {
            throw new ArgumentException($"{oriented.Length} oriented bytes for {orientedWidth}x{orientedHeight} pixels.", nameof(oriented));
        }

        using var control = new MemoryStream(256);
        using (var w = new BinaryWriter(control, System.Text.Encoding.UTF8, leaveOpen: true))
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
            IReadOnlyList<Evidence> evidence = prepared.Evidence ?? [];
            w.Write(evidence.Count);
            foreach (Evidence e in evidence)
            {
                w.Write(e.Signal);
                w.Write(e.Strength);
                w.Write(e.Detail);
                w.Write(e.Indicates);
            }

            w.Write(pixels.Length);
            w.Write(orientedWidth);
            w.Write(orientedHeight);
        }

        ReadOnlySpan<byte> fields = control.GetBuffer().AsSpan(0, (int)control.Length);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, fields.Length + pixels.Length + oriented.Length);
        stream.Write(length);
        stream.Write(fields);
        stream.Write(pixels);
        stream.Write(oriented);
        stream.Flush();
    }

    /// <summary>A worker's message, parsed. Pixels (a slice of the frame) are set only on a successful result.</summary>
    public sealed record WorkerMessage(DecodeMessage Kind, int Id, int ProcessId = 0, string? Decoder = null, PreparedImage Prepared = default, ReadOnlyMemory<byte>? Pixels = null)
    {
        /// <summary>What the worker's confinement is (<see cref="WorkerConfinement"/>), on the ready message.</summary>
        public string? Confinement { get; init; }

        /// <summary>The oriented image before resizing, when the request asked for it and the decode succeeded.</summary>
        public OrientedImage? Oriented { get; init; }
    }

    /// <summary>
    /// Parses a worker's frame; throws <see cref="InvalidDataException"/> or <see cref="EndOfStreamException"/> when it is
    /// not a message the protocol allows.
    /// </summary>
    public static WorkerMessage ReadWorkerMessage(byte[] payload)
    {
        try
        {
            return ParseWorkerMessage(payload);
        }
        catch (FormatException ex)
        {
            // BinaryReader.ReadString's length prefix of more than five 7-bit bytes (found by fuzz/run.sh protocol): the
            // supervisor takes InvalidDataException as a broken protocol and replaces the worker; a FormatException
            // escaped it.
            throw new InvalidDataException("A string of the worker's message has a malformed length: " + ex.Message, ex);
        }
    }

    private static WorkerMessage ParseWorkerMessage(byte[] payload)
    {
        using var r = new BinaryReader(new MemoryStream(payload, writable: false));
        var kind = (DecodeMessage)r.ReadByte();
        switch (kind)
        {
            case DecodeMessage.Ready:
                return new WorkerMessage(kind, 0, ProcessId: r.ReadInt32(), Decoder: r.ReadString()) { Confinement = r.ReadString() };
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
                if (count is < 0 or > 256)
                {
                    throw new InvalidDataException($"{count} evidence entries.");
                }

                var evidence = new Evidence[count];
                for (int i = 0; i < count; i++)
                {
                    evidence[i] = new Evidence(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString());
                }

                int pixelLength = r.ReadInt32();
                int orientedWidth = r.ReadInt32(), orientedHeight = r.ReadInt32();
                long orientedLength = (long)orientedWidth * orientedHeight * 3;
                int offset = (int)r.BaseStream.Position;
                if (pixelLength < 0 || orientedWidth < 0 || orientedHeight < 0 || offset + pixelLength + orientedLength != payload.Length)
                {
                    throw new InvalidDataException("The result's pixel blocks do not match their lengths.");
                }

                return new WorkerMessage(kind, id, Prepared: new PreparedImage(null, error, format.Length == 0 ? null : format, width, height, evidence), Pixels: ok ? payload.AsMemory(offset, pixelLength) : (ReadOnlyMemory<byte>?)null)
                {
                    Oriented = ok && orientedLength > 0 ? new OrientedImage(orientedWidth, orientedHeight, payload.AsSpan(offset + pixelLength, (int)orientedLength).ToArray()) : null,
                };
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
