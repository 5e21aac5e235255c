using ArtGrid.Contracts;
using ArtGrid.Grains;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// The cluster's completion: the job record in Redis (the first completed record of a job stands: a later attempt
/// gets its verdict back, <see cref="RedisJobRecords.CompletedAsync"/>), then <see cref="ImagesScored"/> of the
/// standing verdict on the bus within <see cref="BusOptions.PublishTimeout"/>, then the record marked published
/// (<see cref="RedisJobRecords.PublishedAsync"/>), so that a later delivery of the job is answered from the record
/// alone. Past the deadline the attempt fails without the mark, and the command's retry publishes again.
/// </summary>
public sealed class BusJobCompletion(RedisJobRecords records, IBus bus, IOptions<BusOptions> options, TimeProvider time) : IJobCompletion
{
    public async Task<JobVerdict> PublishAsync(JobVerdict verdict, CancellationToken cancellationToken = default)
    {
        JobVerdict standing = await records.CompletedAsync(verdict);
        await BusDeadline.WithinAsync(
            options.Value.PublishTimeout,
            $"the verdict of job {standing.JobId}",
            token => bus.Publish(ImagesScored.Of(standing), token),
            cancellationToken);
        await records.PublishedAsync(standing.JobId, time.GetUtcNow());
        return standing;
    }
}
