using System.Buffers;
using ArtGrid.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.Serializers;
using Orleans.Serialization.Session;

namespace ArtGrid.Tests.Devices;

public sealed class FloatArrayCodecTests : IDisposable
{
    // The length of a 3x224x224 model input: what crosses silos for every image scored on another silo's device.
    private const int TensorLength = 3 * 224 * 224;

    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    private Serializer Serializer => _services.GetRequiredService<Serializer>();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void OrdinaryValuesRoundTrip()
    {
        float[] values = [0f, 1f, -1f, 0.1f, 3.14159f, -123456.78f, float.MaxValue, float.MinValue];

        Assert.Equal(values, RoundTrip(values));
    }

    [Fact]
    public void SpecialValuesRoundTripBitForBit()
    {
        // Compared as bit patterns: NaN equals nothing and -0 equals +0, so value equality would miss a changed one.
        float[] values = [float.NaN, -0f, 0f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, BitConverter.Int32BitsToSingle(0x7FC0_0001)];

        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), RoundTrip(values)!.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void AnEmptyArrayRoundTripsAsEmpty()
    {
        float[]? result = RoundTrip([]);

        Assert.NotNull(result);
        Assert.Empty(result);
    }

    [Fact]
    public void NullRoundTripsAsNull()
    {
        Assert.Null(RoundTrip(null));
    }

    [Fact]
    public void ARecordKeepsItsWholeTensor()
    {
        float[] tensor = RandomTensor(TensorLength, seed: 5);
        var map = new ActivationMap(224, 672, tensor);

        ActivationMap? result = Serializer.Deserialize<ActivationMap>(Serializer.SerializeToArray(map));

        Assert.NotNull(result);
        Assert.NotNull(result.Logits);
        Assert.True(tensor.AsSpan().SequenceEqual(result.Logits), "The tensor changed on its way through the serializer.");
        Assert.Equal((224, 672), (result.Height, result.Width));
    }

    [Fact]
    public void ATensorTravelsAsOneBlockOfItsBytes()
    {
        byte[] bytes = Serializer.SerializeToArray(RandomTensor(TensorLength, seed: 6));

        // Four bytes a value and a few of framing; Orleans' element-by-element array codec writes a field header per value.
        Assert.InRange(bytes.Length, 4 * TensorLength, (4 * TensorLength) + 64);
    }

    [Fact]
    public void TheBlockIsSmallerThanOrleansOwnArrayEncoding()
    {
        float[] tensor = RandomTensor(TensorLength, seed: 7);

        int block = Serializer.SerializeToArray(tensor).Length;
        int generic = Encoded(new ArrayCodec<float>(_services.GetRequiredService<ICodecProvider>().GetCodec<float>()), tensor);

        Assert.True(block < generic, $"The block codec wrote {block} bytes, Orleans' array codec {generic}.");
    }

    private float[]? RoundTrip(float[]? values) => Serializer.Deserialize<float[]?>(Serializer.SerializeToArray(values));

    private int Encoded(IFieldCodec<float[]> codec, float[] value)
    {
        using SerializerSession session = _services.GetRequiredService<SerializerSessionPool>().GetSession();
        var buffer = new ArrayBufferWriter<byte>();
        Writer<ArrayBufferWriter<byte>> writer = Writer.Create(buffer, session);
        codec.WriteField(ref writer, 0, typeof(float[]), value);
        writer.Commit();
        return buffer.WrittenCount;
    }

    private static float[] RandomTensor(int length, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => (random.NextSingle() * 4) - 2)];
    }
}
