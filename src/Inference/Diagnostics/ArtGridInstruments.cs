using System.Diagnostics.Metrics;
using ArtGrid.Inference.Devices;

namespace ArtGrid.Inference.Diagnostics;

/// <summary>
/// The inference and scoring instruments of the "ArtGrid" meter (<see cref="ArtGridMeter"/>; the decode sandbox
/// records its own on the same meter). Tags stay low-cardinality: device ("{silo}/{device}"), model, outcome. Per device:
/// queue depth (a gauge read from the active device grains), batch sizes, queue delay, compute time and rejections.
/// </summary>
public sealed class ArtGridInstruments
{
    public const string MeterName = ArtGridMeter.Name;

    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _queueDelay;
    private readonly Histogram<double> _compute;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _images;

    public ArtGridInstruments(IMeterFactory meters, LocalDevices? devices = null)
    {
        Meter meter = meters.Create(MeterName);
        meter.CreateObservableGauge(
            "artgrid.inference.queue.depth",
            () => (devices?.Snapshot() ?? []).Select(p => DeviceKey.Parse(p.Key) is var key
                ? new Measurement<int>(p.Value, new KeyValuePair<string, object?>("device", key.Location), new KeyValuePair<string, object?>("model", key.ModelId))
                : default),
            "{request}",
            "Requests a device holds: queued, or in the batch it is running.");
        _batchSize = meter.CreateHistogram<int>("artgrid.inference.batch.size", "{image}", "Images per inference run.");
        _queueDelay = meter.CreateHistogram<double>("artgrid.inference.queue.delay", "ms", "Time a request waited in a device queue.");
        _compute = meter.CreateHistogram<double>("artgrid.inference.compute.duration", "ms", "Time of one inference run.");
        _rejected = meter.CreateCounter<long>("artgrid.inference.rejected", "{request}", "Requests refused by a full device queue.");
        _images = meter.CreateCounter<long>("artgrid.images.scored", "{image}", "Images finished, by outcome (label or error code).");
    }

    public void BatchRan(string device, int size, TimeSpan compute)
    {
        var tag = new KeyValuePair<string, object?>("device", device);
        _batchSize.Record(size, tag);
        _compute.Record(compute.TotalMilliseconds, tag);
    }

    public void Dequeued(string device, TimeSpan queueDelay) =>
        _queueDelay.Record(queueDelay.TotalMilliseconds, new KeyValuePair<string, object?>("device", device));

    public void Rejected(string device) => _rejected.Add(1, new KeyValuePair<string, object?>("device", device));

    public void ImageScored(string outcome, bool cached) =>
        _images.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("cached", cached));
}
