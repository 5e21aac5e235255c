using ArtGrid.Inference.Devices;

namespace ArtGrid.Tests.Devices;

public sealed class DeviceNamingTests
{
    [Theory]
    [InlineData("cpu:0", DeviceKind.Cpu, 0)]
    [InlineData("cuda:3", DeviceKind.Cuda, 3)]
    [InlineData("sim:12", DeviceKind.Sim, 12)]
    [InlineData("CUDA:1", DeviceKind.Cuda, 1)]
    [InlineData(" Sim :4", DeviceKind.Sim, 4)]
    public void ADeviceNameParsesToItsKindAndIndex(string text, DeviceKind kind, int index)
    {
        Assert.Equal(new DeviceId(kind, index), DeviceId.Parse(text));
    }

    [Fact]
    public void GpuIsAnotherNameForCuda()
    {
        Assert.Equal(new DeviceId(DeviceKind.Cuda, 1), DeviceId.Parse("gpu:1"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("cpu")]
    [InlineData("cpu:")]
    [InlineData("cpu:-1")]
    [InlineData("cpu:+1")]
    [InlineData("tpu:0")]
    [InlineData("cpu:1.5")]
    [InlineData(":0")]
    public void TryParseRejectsWhatIsNotADevice(string text)
    {
        Assert.False(DeviceId.TryParse(text, out _));
    }

    [Fact]
    public void TryParseRejectsNull()
    {
        Assert.False(DeviceId.TryParse(null, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("cpu:-1")]
    [InlineData("tpu:0")]
    public void ParseNamesTheTextItRejects(string text)
    {
        FormatException error = Assert.Throws<FormatException>(() => DeviceId.Parse(text));
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DeviceKind.Cpu, 0, "cpu:0")]
    [InlineData(DeviceKind.Cuda, 3, "cuda:3")]
    [InlineData(DeviceKind.Sim, 12, "sim:12")]
    public void ADeviceIsWrittenInLowerCase(DeviceKind kind, int index, string expected)
    {
        Assert.Equal(expected, new DeviceId(kind, index).ToString());
    }

    [Theory]
    [InlineData("cpu:0")]
    [InlineData("GPU:7")]
    [InlineData(" sim :12")]
    public void AWrittenDeviceParsesBackToItself(string text)
    {
        DeviceId id = DeviceId.Parse(text);
        Assert.Equal(id, DeviceId.Parse(id.ToString()));
    }

    [Fact]
    public void AKeyWithASiloSplitsIntoModelSiloAndDevice()
    {
        DeviceKey key = DeviceKey.Parse("artgrid-resnet18/2@silo-1/cuda:0");

        Assert.Equal("artgrid-resnet18/2", key.ModelId);
        Assert.Equal("silo-1", key.Silo);
        Assert.Equal(new DeviceId(DeviceKind.Cuda, 0), key.Device);
        Assert.Equal("silo-1/cuda:0", key.Location);
    }

    [Fact]
    public void AKeyNamesItsSiloAndDevice()
    {
        DeviceKey key = DeviceKey.Parse("m/1@silo-1/cpu:0");

        Assert.Equal("m/1", key.ModelId);
        Assert.Equal("silo-1", key.Silo);
        Assert.Equal(new DeviceId(DeviceKind.Cpu, 0), key.Device);
        Assert.Equal("silo-1/cpu:0", key.Location);
    }

    [Fact]
    public void FormatWritesTheDeviceInItsCanonicalName()
    {
        // "gpu:1" is accepted on the way in; the key names the device one way only, so one device is one grain.
        Assert.Equal("m/1@silo-2/cuda:1", DeviceKey.Format("m/1", "gpu:1", "silo-2"));
        Assert.Equal("m/1@silo-1/sim:0", DeviceKey.Format("m/1", "SIM:0", "silo-1"));
    }

    [Fact]
    public void FormatRejectsAnUnknownDevice()
    {
        Assert.Throws<FormatException>(() => DeviceKey.Format("m/1", "tpu:0", "silo-1"));
    }

    [Theory]
    [InlineData("artgrid-resnet18/2@silo-1/cuda:0")]
    [InlineData("m/1@s/cpu:0")]
    [InlineData("m@silo-3/sim:12")]
    public void AKeyParsesBackToTheSameText(string text)
    {
        DeviceKey key = DeviceKey.Parse(text);

        Assert.Equal(text, key.ToString());
        Assert.Equal(key, DeviceKey.Parse(key.ToString()));
    }

    [Theory]
    [InlineData("nodevice")]
    [InlineData("m@")]
    [InlineData("@cpu:0")]
    [InlineData("m/1@cpu:0")]
    [InlineData("m@silo/")]
    [InlineData("m@/cpu:0")]
    [InlineData("m@silo/tpu:0")]
    public void AKeyWithoutModelOrDeviceIsRejectedByName(string text)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => DeviceKey.Parse(text));
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }
}
