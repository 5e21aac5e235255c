using ArtGrid.Inference.Devices;
using Microsoft.Extensions.Configuration;

namespace ArtGrid.Tests.Devices;

public sealed class DeviceInventoryTests
{
    private static readonly DeviceId Cpu0 = new(DeviceKind.Cpu, 0);
    private static readonly DeviceId Cpu1 = new(DeviceKind.Cpu, 1);
    private static readonly DeviceId Sim0 = new(DeviceKind.Sim, 0);
    private static readonly DeviceId Sim1 = new(DeviceKind.Sim, 1);

    // A probe that must not be asked: the inventory names no "cuda:all".
    private static IReadOnlyList<int> NoProbe() => throw new InvalidOperationException("The GPU probe was asked for an inventory without cuda:all.");

    [Fact]
    public void DevicesKeepTheirConfigurationOrder()
    {
        DeviceInventory inventory = DeviceInventory.Parse(["sim:1", "cpu:0", "cuda:2", "sim:0"], NoProbe);

        Assert.Equal([Sim1, Cpu0, new DeviceId(DeviceKind.Cuda, 2), Sim0], inventory.Devices);
    }

    [Fact]
    public void ADeviceListedTwiceIsRejectedByName()
    {
        // "gpu:1" and "cuda:1" are one device under two names.
        ArgumentException error = Assert.Throws<ArgumentException>(() => DeviceInventory.Parse(["cuda:1", "cpu:0", "gpu:1"], NoProbe));

        Assert.Contains("cuda:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACudaAllEntryExpandsToEveryGpuTheProbeLists()
    {
        DeviceInventory inventory = DeviceInventory.Parse(["cpu:0", " CUDA:all ", "sim:0"], () => [0, 2]);

        Assert.Equal([Cpu0, new DeviceId(DeviceKind.Cuda, 0), new DeviceId(DeviceKind.Cuda, 2), Sim0], inventory.Devices);
    }

    [Fact]
    public void ACudaAllEntryOnANodeWithoutGpusAddsNothing()
    {
        DeviceInventory inventory = DeviceInventory.Parse(["cuda:all", "cpu:0"], () => []);

        Assert.Equal([Cpu0], inventory.Devices);
    }

    [Fact]
    public void AnUnknownEntryIsRejectedByName()
    {
        FormatException error = Assert.Throws<FormatException>(() => DeviceInventory.Parse(["cpu:0", "tpu:3"], NoProbe));

        Assert.Contains("tpu:3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutTheKeyASiloServesOneCpuSlot()
    {
        DeviceInventory inventory = DeviceInventory.FromConfiguration(Configuration([]), NoProbe);

        Assert.Equal([Cpu0], inventory.Devices);
    }

    [Fact]
    public void AnEmptyValueMeansASiloWithoutDevices()
    {
        DeviceInventory inventory = DeviceInventory.FromConfiguration(Configuration(new() { ["ArtGrid:Inference:Devices"] = "" }), NoProbe);

        Assert.Empty(inventory.Devices);
        Assert.Equal("", inventory.Advertised);
    }

    [Fact]
    public void IndexedEntriesAreReadInOrder()
    {
        IConfiguration configuration = Configuration(new()
        {
            ["ArtGrid:Inference:Devices:0"] = "sim:0",
            ["ArtGrid:Inference:Devices:1"] = "cpu:1",
        });

        Assert.Equal([Sim0, Cpu1], DeviceInventory.FromConfiguration(configuration, NoProbe).Devices);
    }

    [Fact]
    public void ConfiguredCudaAllAsksTheProbe()
    {
        IConfiguration configuration = Configuration(new() { ["ArtGrid:Inference:Devices:0"] = "cuda:all" });

        Assert.Equal([new DeviceId(DeviceKind.Cuda, 1)], DeviceInventory.FromConfiguration(configuration, () => [1]).Devices);
    }

    [Fact]
    public void ABadConfiguredEntryIsRejectedByName()
    {
        IConfiguration configuration = Configuration(new()
        {
            ["ArtGrid:Inference:Devices:0"] = "sim:0",
            ["ArtGrid:Inference:Devices:1"] = "sim:one",
        });

        FormatException error = Assert.Throws<FormatException>(() => DeviceInventory.FromConfiguration(configuration, NoProbe));
        Assert.Contains("sim:one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheAdvertisedValueReadsBackToTheSameDevices()
    {
        var inventory = new DeviceInventory([Sim1, Cpu0, new DeviceId(DeviceKind.Cuda, 3)]);

        Assert.Equal("sim:1,cpu:0,cuda:3", inventory.Advertised);
        Assert.Equal(inventory.Devices, DeviceInventory.ParseAdvertised(inventory.Advertised));
    }

    [Fact]
    public void ReadingAnAdvertisedValueSkipsKindsThisSiloDoesNotKnow()
    {
        Assert.Equal([Cpu0, Sim1], DeviceInventory.ParseAdvertised("cpu:0,tpu:9,sim:1"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(",")]
    public void AnAbsentAdvertisedValueMeansNoDevices(string? advertised)
    {
        Assert.Empty(DeviceInventory.ParseAdvertised(advertised));
    }

    [Fact]
    public void ContainsAnswersForListedDevicesOnly()
    {
        var inventory = new DeviceInventory([Sim0, Cpu1]);

        Assert.True(inventory.Contains(Sim0));
        Assert.False(inventory.Contains(Cpu0));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
