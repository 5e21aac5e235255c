using System.Diagnostics.Metrics;

namespace ArtGrid.Hosting.Operations;

/// <summary>
/// Running totals of this process's ArtGrid instruments, kept by a <see cref="MeterListener"/> of its own so that the
/// silo can say what it does without a scrape: images scored (and from the cache), jobs finished, decode outcomes and
/// workers replaced, and per device its batches, batch sizes, rejections and queue depth. Recording costs an
/// interlocked add or a short lock on the instrument's thread; <see cref="Read"/> copies the totals out.
/// </summary>
public sealed class SiloStats : IDisposable
{
    // The instruments read, by name; anything else on the meter is left to the Prometheus exporter.
    private const string ImagesScored = "artgrid.images.scored";
    private const string BatchSize = "artgrid.inference.batch.size";
    private const string Rejected = "artgrid.inference.rejected";
    private const string QueueDepth = "artgrid.inference.queue.depth";
    private const string Decode = "artgrid.decode.duration";
    private const string WorkerReplaced = "artgrid.decode.worker.replaced";

    private static readonly HashSet<string> Instruments =
    [
        ImagesScored, BatchSize, Rejected, QueueDepth, Decode, WorkerReplaced, JobInstruments.CompletedName, JobInstruments.QueueWaitName,
    ];

    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _imageOutcomes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _jobOutcomes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _decodeOutcomes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeviceTotals> _devices = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private long _cacheHits;
    private long _cacheMisses;
    private long _workersReplaced;
    private double? _lastQueueWaitMs;
    private DateTimeOffset? _lastQueueWaitAt;

    /// <param name="meters">The host's meter factory: only the ArtGrid meter it made is read (not another host's in this process).</param>
    public SiloStats(IMeterFactory meters, TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ArtGridMeter.Name && ReferenceEquals(instrument.Meter.Scope, meters) && Instruments.Contains(instrument.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.Start();
    }

    /// <summary>The totals since this process started, with each device's queue depth read now.</summary>
    public SiloTotals Read()
    {
        lock (_lock)
        {
            // Queue depths are an observable gauge: zero every device first, so that one whose grain was collected reads 0.
            foreach (DeviceTotals device in _devices.Values)
            {
                device.QueueDepth = 0;
            }
        }

        _listener.RecordObservableInstruments();
        lock (_lock)
        {
            return new SiloTotals(
                new Dictionary<string, long>(_imageOutcomes, StringComparer.Ordinal),
                new Dictionary<string, long>(_jobOutcomes, StringComparer.Ordinal),
                new Dictionary<string, long>(_decodeOutcomes, StringComparer.Ordinal),
                _cacheHits,
                _cacheMisses,
                _workersReplaced,
                _lastQueueWaitMs,
                _lastQueueWaitAt,
                [.. _devices.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => d.Value.ToDevice(d.Key))]);
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(string instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (instrument)
        {
            case ImagesScored:
            {
                string outcome = Tag(tags, "outcome") ?? "none";
                bool cached = Tag(tags, "cached") == bool.TrueString;
                lock (_lock)
                {
                    Add(_imageOutcomes, outcome, (long)value);
                    if (cached)
                    {
                        _cacheHits += (long)value;
                    }
                    else
                    {
                        _cacheMisses += (long)value;
                    }
                }

                break;
            }

            case JobInstruments.CompletedName:
                lock (_lock)
                {
                    Add(_jobOutcomes, Tag(tags, "outcome") ?? "none", (long)value);
                }

                break;
            case JobInstruments.QueueWaitName:
                lock (_lock)
                {
                    _lastQueueWaitMs = value;
                    _lastQueueWaitAt = _time.GetUtcNow();
                }

                break;
            case Decode:
                lock (_lock)
                {
                    Add(_decodeOutcomes, Tag(tags, "outcome") ?? "none", 1);
                }

                break;
            case WorkerReplaced:
                Interlocked.Add(ref _workersReplaced, (long)value);
                break;
            case BatchSize:
                lock (_lock)
                {
                    DeviceTotals device = Device(Tag(tags, "device"));
                    device.Batches++;
                    device.Images += (long)value;
                    device.LastBatchSize = (int)value;
                }

                break;
            case Rejected:
                lock (_lock)
                {
                    Device(Tag(tags, "device")).Rejected += (long)value;
                }

                break;
            case QueueDepth:
                lock (_lock)
                {
                    DeviceTotals device = Device(Tag(tags, "device"));
                    device.QueueDepth += (int)value;
                    device.Model = Tag(tags, "model") ?? device.Model;
                }

                break;
        }
    }

    private DeviceTotals Device(string? location)
    {
        string key = location ?? "unknown";
        if (!_devices.TryGetValue(key, out DeviceTotals? device))
        {
            device = new DeviceTotals();
            _devices[key] = device;
        }

        return device;
    }

    private static void Add(Dictionary<string, long> totals, string key, long value) =>
        totals[key] = totals.GetValueOrDefault(key) + value;

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value?.ToString();
            }
        }

        return null;
    }

    private sealed class DeviceTotals
    {
        public long Batches { get; set; }

        public long Images { get; set; }

        public int? LastBatchSize { get; set; }

        public long Rejected { get; set; }

        public int QueueDepth { get; set; }

        public string? Model { get; set; }

        public DeviceStats ToDevice(string location) => new(
            location, Model, QueueDepth, LastBatchSize, Batches == 0 ? null : Math.Round((double)Images / Batches, 2), Batches, Images, Rejected);
    }
}

/// <summary>What <see cref="SiloStats.Read"/> answers: totals since the process started.</summary>
public sealed record SiloTotals(
    IReadOnlyDictionary<string, long> ImageOutcomes,
    IReadOnlyDictionary<string, long> JobOutcomes,
    IReadOnlyDictionary<string, long> DecodeOutcomes,
    long CacheHits,
    long CacheMisses,
    long DecodeWorkersReplaced,
    double? LastQueueWaitMs,
    DateTimeOffset? LastQueueWaitAt,
    IReadOnlyList<DeviceStats> Devices)
{
    public long ImagesScored => ImageOutcomes.Values.Sum();

    /// <summary>Jobs answered with a verdict (scored, or replayed from the one stored); rejections are apart.</summary>
    public long JobsCompleted => JobOutcomes.Where(o => o.Key != "rejected").Sum(o => o.Value);
}
