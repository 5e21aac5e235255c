using MassTransit;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// The "score-images" endpoint: prefetch and the concurrency limit are the cluster's backpressure (a silo holds at
/// most <c>PrefetchCount</c> unacknowledged jobs, and scores <c>ConcurrentMessageLimit</c> at once); exponential
/// retries ride out a silo leaving or Redis restarting, and what still fails goes to "score-images_error". The queue is
/// ordered by job priority (<see cref="ScoreQueue"/>: declared with <c>x-max-priority</c>, by senders too).
/// </summary>
public sealed class ScoreImagesConsumerDefinition : ConsumerDefinition<ScoreImagesConsumer>
{
    private readonly BusOptions _options;

    public ScoreImagesConsumerDefinition(IOptions<BusOptions> options)
    {
        _options = options.Value;
        EndpointName = _options.QueueName;
        ConcurrentMessageLimit = _options.ConcurrentMessageLimit;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ScoreImagesConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.PrefetchCount;
        ScoreQueue.ConfigureEndpoint(endpointConfigurator);
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(
                _options.RetryLimit,
                TimeSpan.FromSeconds(_options.RetryMinSeconds),
                TimeSpan.FromSeconds(_options.RetryMaxSeconds),
                TimeSpan.FromSeconds(_options.RetryMinSeconds));
            // A broken command stays broken: no point retrying it.
            retry.Ignore<ArgumentException>();
        });
    }
}
