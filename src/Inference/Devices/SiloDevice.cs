namespace ArtGrid.Inference.Devices;

/// <summary>A device of some silo: the silo's name and the device.</summary>
public readonly record struct SiloDevice(string Silo, DeviceId Device)
{
    public override string ToString() => $"{Silo}/{Device}";
}
