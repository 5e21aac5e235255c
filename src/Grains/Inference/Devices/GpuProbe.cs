namespace ArtGrid.Grains.Inference.Devices;

/// <summary>One GPU the node's driver reports.</summary>
public sealed record GpuInfo(int Index, string Name, int MemoryMib, string Driver);

/// <summary>Placeholder until the probe lands: no GPUs.</summary>
public static class GpuProbe
{
    public static IReadOnlyList<GpuInfo> List() => [];
}
