using ArtGrid.Hosting.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Webhooks;

/// <summary>
/// The webhook endpoint: its own queue, "{ArtGrid:Bus:QueueName}-webhooks", so that deployments (and test runs) with
/// their own command queue each get every event, and the gateways of one deployment compete for its deliveries. The
/// back-off between attempts is message retry in the consuming process (<see cref="WebhookOptions.Backoff"/>), not
/// delayed redelivery: the broker has no delayed-message plugin. Retries also ride out a Redis blip; an event still
/// failing then (never for a receiver's sake) goes to the "_error" queue.
/// </summary>
public sealed class WebhookConsumerDefinition : ConsumerDefinition<WebhookConsumer>
{
    private readonly WebhookOptions _options;

    public WebhookConsumerDefinition(IOptions<BusOptions> bus, IOptions<WebhookOptions> options)
    {
        _options = options.Value;
        EndpointName = QueueName(bus.Value);
        ConcurrentMessageLimit = _options.ConcurrentDeliveries;
    }

    /// <summary>The queue webhook consumers take events from.</summary>
    public static string QueueName(BusOptions bus) => $"{bus.QueueName}-webhooks";

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WebhookConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A delivery waiting to retry holds its event: prefetch no more than can be worked on.
        endpointConfigurator.PrefetchCount = _options.ConcurrentDeliveries;
        TimeSpan[] backoff = _options.Backoff();
        endpointConfigurator.UseMessageRetry(retry =>
        {
            if (backoff.Length == 0)
            {
                retry.None();
            }
            else
            {
                retry.Intervals(backoff);
            }
        });
    }
}
