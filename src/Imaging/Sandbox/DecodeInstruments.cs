using System.Diagnostics.Metrics;

namespace ArtGrid.Imaging.Sandbox;

/// <summary>The decode sandbox's instruments on the "ArtGrid" meter: decode time by outcome, and workers replaced by reason.</summary>
public sealed class DecodeInstruments
{
    private readonly Histogram<double> _decode;
    private readonly Counter<long> _decodeWorkerReplaced;

    public DecodeInstruments(IMeterFactory meters)
    {
        Meter meter = meters.Create(ArtGridMeter.Name);
        _decode = meter.CreateHistogram<double>("artgrid.decode.duration", "ms", "Time to decode, orient and resize one image in the sandbox, by outcome.");
        _decodeWorkerReplaced = meter.CreateCounter<long>("artgrid.decode.worker.replaced", "{process}", "Decode workers killed or retired, by reason.");
    }

    public void Decoded(string outcome, TimeSpan duration) =>
        _decode.Record(duration.TotalMilliseconds, new KeyValuePair<string, object?>("outcome", outcome));

    public void DecodeWorkerReplaced(string reason) =>
        _decodeWorkerReplaced.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
