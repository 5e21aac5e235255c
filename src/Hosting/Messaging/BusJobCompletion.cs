using ArtGrid.Contracts;
using ArtGrid.Grains;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// The cluster's completion: the job record in Redis, then <see cref="ImagesScored"/> on the bus within
/// <see cref="BusOptions.PublishTimeout"/>. Past it the job grain fails the attempt without recording the publication,
/// and the command's retry publishes again.
/// </summary>
public sealed class BusJobCompletion(RedisJobRecords records, IBus bus, IOptions<BusOptions> options) : IJobCompletion
{
    public async Task PublishAsync(JobVerdict verdict, CancellationToken cancellationToken = default)
    {
        await records.CompletedAsync(verdict);
        await BusDeadline.WithinAsync(
            options.Value.PublishTimeout,
            $"the verdict of job {verdict.JobId}",
            token => bus.Publish(ImagesScored.Of(verdict), token),
            cancellationToken);
    }
}
