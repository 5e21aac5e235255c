namespace ArtGrid;

/// <summary>
/// The one meter every ArtGrid component records on. Each layer owns its instruments (inference and scoring:
/// ArtGridInstruments; decoding: DecodeInstruments) and creates them from <c>IMeterFactory</c> under this name, which
/// hands every caller the same meter.
/// </summary>
public static class ArtGridMeter
{
    public const string Name = "ArtGrid";
}
