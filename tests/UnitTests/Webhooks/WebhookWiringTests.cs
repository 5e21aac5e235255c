using ArtGrid.Hosting.Messaging;
using ArtGrid.Hosting.Webhooks;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.Webhooks;

/// <summary>
/// What the gateway can ask before it accepts a job (no Redis call is made: the connection is opened on first use),
/// and what the wiring adds to the bus when webhooks are on and off.
/// </summary>
public sealed class WebhookWiringTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef";

    private static WebhookRegistrations Registrations(bool enabled = true, bool allowPrivateNetworks = false, params string[] allowedHosts) => new(
        new RedisConnection("127.0.0.1:1"),
        Options.Create(new WebhookOptions { Enabled = enabled, SigningSecret = Secret, AllowedHosts = allowedHosts, AllowPrivateNetworks = allowPrivateNetworks }),
        Options.Create(new BusOptions()));

    [Fact]
    public async Task DisabledWebhooksRefuseEveryCallbackAndSaySo()
    {
        WebhookRegistrations registrations = Registrations(enabled: false, allowedHosts: "hooks.example.com");

        string? problem = await registrations.ValidateCallback(new Uri("https://hooks.example.com/artgrid"));

        Assert.Contains("ArtGrid:Webhooks:Enabled", problem, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => registrations.RegisterAsync("job-1", new Uri("https://hooks.example.com/artgrid")));
    }

    [Theory]
    [InlineData("ftp://hooks.example.com/x", "http or https")]
    [InlineData("file:///etc/passwd", "http or https")]
    [InlineData("https://user:pass@hooks.example.com/x", "user name or password")]
    [InlineData("https://other.example.org/x", "AllowedHosts")]
    [InlineData("https://127.0.0.1/x", "not a public address")]
    [InlineData("https://[::1]/x", "not a public address")]
    [InlineData("https://169.254.169.254/latest/meta-data", "not a public address")]
    [InlineData("https://localhost/x", "not public")]
    public async Task ABadCallbackIsRefusedWithItsReason(string url, string reason)
    {
        WebhookRegistrations registrations = Registrations(allowedHosts: ["hooks.example.com", "127.0.0.1", "::1", "169.254.169.254", "localhost"]);

        Assert.Contains(reason, await registrations.ValidateCallback(new Uri(url)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyAllowListRefusesEveryHost()
    {
        Assert.Contains("AllowedHosts", await Registrations().ValidateCallback(new Uri("https://93.184.216.34/hook")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAllowedPublicAddressIsAccepted()
    {
        Assert.Null(await Registrations(allowedHosts: "93.184.216.34").ValidateCallback(new Uri("https://93.184.216.34/hook?token=abc")));
    }

    [Fact]
    public async Task LoopbackIsAcceptedOnlyWhenPrivateNetworksAre()
    {
        Assert.Null(await Registrations(allowPrivateNetworks: true, allowedHosts: "127.0.0.1").ValidateCallback(new Uri("http://127.0.0.1:8080/hook")));
    }

    [Fact]
    public async Task RegisteringRefusesABadJobIdOrAUrlWithUserInfo()
    {
        WebhookRegistrations registrations = Registrations(allowedHosts: "hooks.example.com");

        await Assert.ThrowsAsync<ArgumentException>(() => registrations.RegisterAsync("", new Uri("https://hooks.example.com/x")));
        await Assert.ThrowsAsync<ArgumentException>(() => registrations.RegisterAsync("job-1", new Uri("https://a:b@hooks.example.com/x")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheConsumerIsRegisteredOnlyWhenWebhooksAreEnabled(bool enabled)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ArtGrid:Webhooks:Enabled"] = enabled ? "true" : "false",
            ["ArtGrid:Webhooks:SigningSecret"] = Secret,
        }).Build();
        var services = new ServiceCollection();
        services.AddArtGridWebhooks(configuration);

        services.AddMassTransit(bus => bus.AddArtGridWebhookConsumers());

        Assert.Equal(enabled, services.Any(d => d.ServiceType == typeof(WebhookConsumer)));
    }

    [Fact]
    public void TheConsumersNeedTheServicesFirst()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddMassTransit(bus => bus.AddArtGridWebhookConsumers()));

        Assert.Contains("AddArtGridWebhooks", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheQueueFollowsTheCommandQueue()
    {
        Assert.Equal("score-images-run7-webhooks", WebhookConsumerDefinition.QueueName(new BusOptions { QueueName = "score-images-run7" }));
    }
}
