using ArtGrid.Hosting.Messaging;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ArtGrid.Hosting.Webhooks;

/// <summary>
/// Wiring for per-job webhooks, in two calls because the bus is configured apart from the services:
/// <code>
/// services.AddArtGridRedis(configuration);
/// services.AddArtGridWebhooks(configuration);
/// services.AddMassTransit(bus =>
/// {
///     bus.AddArtGridWebhookConsumers();
///     bus.UsingRabbitMq((context, rabbit) => { rabbit.UseArtGrid(…); rabbit.ConfigureEndpoints(context); });
/// });
/// </code>
/// </summary>
public static class WebhookServiceCollectionExtensions
{
    /// <summary>
    /// The options ("ArtGrid:Webhooks", validated now and on start), <see cref="WebhookRegistrations"/> and
    /// <see cref="WebhookSender"/>. Needs the Redis connection of <see cref="MessagingServiceCollectionExtensions.AddArtGridRedis"/>.
    /// With webhooks disabled, registrations refuse every callback and <see cref="AddArtGridWebhookConsumers"/> adds nothing.
    /// </summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The section is invalid (a missing or short secret when enabled, say).</exception>
    public static IServiceCollection AddArtGridWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        WebhookOptions options = ArtGridOptions.Read<WebhookOptions, WebhookOptionsValidator>(configuration, WebhookOptions.SectionName);
        services.AddArtGridSection<WebhookOptions, WebhookOptionsValidator>(WebhookOptions.SectionName);
        services.AddArtGridSection<BusOptions, BusOptionsValidator>(BusOptions.SectionName);
        services.AddSingleton(new WebhookSwitch(options.Enabled));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WebhookRegistrations>();
        services.TryAddSingleton<WebhookSender>();
        return services;
    }

    /// <summary>
    /// The webhook consumer on its queue (<see cref="WebhookConsumerDefinition"/>), when webhooks are enabled; nothing
    /// otherwise. Call <see cref="AddArtGridWebhooks"/> first.
    /// </summary>
    public static void AddArtGridWebhookConsumers(this IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        WebhookSwitch webhooks = bus.Select(d => d.ImplementationInstance).OfType<WebhookSwitch>().LastOrDefault()
            ?? throw new InvalidOperationException("Call services.AddArtGridWebhooks(configuration) before AddArtGridWebhookConsumers.");
        if (webhooks.Enabled)
        {
            bus.AddConsumer<WebhookConsumer, WebhookConsumerDefinition>();
        }
    }

    // Whether the section said "Enabled", as read while the services were added, for the bus registration to see.
    private sealed record WebhookSwitch(bool Enabled);
}
