using ArtGrid.Abstractions;
using ArtGrid.Grains.Aggregation;
using ArtGrid.Messaging;
using MassTransit;

namespace ArtGrid.Silo.Messaging;

/// <summary>The cluster's completion: the job record in Redis, then <see cref="ImagesScored"/> on the bus.</summary>
public sealed class BusJobCompletion(RedisJobRecords records, IBus bus) : IJobCompletion
{
    public async Task PublishAsync(JobVerdict verdict, CancellationToken cancellationToken = default)
    {
        await records.CompletedAsync(verdict);
        await bus.Publish(new ImagesScored { JobId = verdict.JobId, Verdict = verdict }, cancellationToken);
    }
}
