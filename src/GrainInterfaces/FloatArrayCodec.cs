using System.Buffers;
using System.Runtime.InteropServices;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;

namespace ArtGrid.GrainInterfaces;

/// <summary>
/// Writes a <c>float[]</c> (a model input tensor: 150,528 values at 224x224) as one block of bytes. Orleans' generic
/// array codec writes element by element, which made a tensor sent to another silo's device cost milliseconds of CPU
/// on each side; this is a copy. Little-endian on the wire, as every platform .NET runs on.
/// </summary>
[RegisterSerializer]
public sealed class FloatArrayCodec : IFieldCodec<float[]>
{
    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, Type? expectedType, float[]? value)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (ReferenceCodec.TryWriteReferenceField(ref writer, fieldIdDelta, expectedType, value))
        {
            return;
        }

        writer.WriteFieldHeader(fieldIdDelta, expectedType, typeof(float[]), WireType.LengthPrefixed);
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(value.AsSpan());
        writer.WriteVarUInt32((uint)bytes.Length);
        writer.Write(bytes);
    }

    public float[] ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        if (field.WireType == WireType.Reference)
        {
            return ReferenceCodec.ReadReference<float[], TInput>(ref reader, field)!;
        }

        field.EnsureWireType(WireType.LengthPrefixed);
        uint length = reader.ReadVarUInt32();
        if (length % sizeof(float) != 0 || length > Array.MaxLength)
        {
            throw new InvalidDataException($"A float array of {length} bytes is not whole floats.");
        }

        reader.EnsureAvailable(length);
        var result = new float[length / sizeof(float)];
        reader.ReadBytes(MemoryMarshal.AsBytes(result.AsSpan()));
        ReferenceCodec.RecordObject(reader.Session, result);
        return result;
    }
}
