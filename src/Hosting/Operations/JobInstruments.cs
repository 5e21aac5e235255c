using System.Diagnostics.Metrics;

namespace ArtGrid.Hosting.Operations;

/// <summary>
/// The bus consumer's instruments on the "ArtGrid" meter: jobs finished by outcome ("scored", "replayed", "rejected",
/// "unrecorded": scored while Redis could not be reached),
/// and how long each job message waited in the broker before a silo took it (now minus its sent time: the queue's age
/// as consumers see it, which no broker counter gives).
/// </summary>
public sealed class JobInstruments
{
    public const string CompletedName = "artgrid.jobs.completed";

    public const string QueueWaitName = "artgrid.jobs.queue.wait";

    private readonly Counter<long> _completed;
    private readonly Histogram<double> _queueWait;

    public JobInstruments(IMeterFactory meters)
    {
        Meter meter = meters.Create(ArtGridMeter.Name);
        _completed = meter.CreateCounter<long>(CompletedName, "{job}", "Jobs the consumer finished, by outcome (scored, replayed, rejected, unrecorded).");
        _queueWait = meter.CreateHistogram<double>(QueueWaitName, "ms", "Time a job message waited in the broker before a silo took it.");
    }

    public void Completed(string outcome) => _completed.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Waited(TimeSpan wait) => _queueWait.Record(Math.Max(0, wait.TotalMilliseconds));
}
