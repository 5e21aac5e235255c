using ArtGrid.Hosting;
using ArtGrid.Hosting.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.Webhooks;

/// <summary>The "ArtGrid:Webhooks" section: off by default, a real secret when on, a retry schedule RabbitMQ tolerates.</summary>
public sealed class WebhookOptionsTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef";

    private static WebhookOptions Read(Dictionary<string, string?> settings) =>
        ArtGridOptions.Read<WebhookOptions, WebhookOptionsValidator>(
            new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), WebhookOptions.SectionName);

    private static OptionsValidationException Refused(Dictionary<string, string?> settings) =>
        Assert.Throws<OptionsValidationException>(() => Read(settings));

    [Fact]
    public void TheDefaultsAreOffWithSixAttemptsFromOneToSixtySeconds()
    {
        WebhookOptions options = Read([]);

        Assert.False(options.Enabled);
        Assert.False(options.AllowPrivateNetworks);
        Assert.Empty(options.AllowedHosts);
        Assert.Equal(6, options.MaxAttempts);
        Assert.Equal(10, options.TimeoutSeconds);
        Assert.Equal([1, 2, 4, 8, 16], options.Backoff().Select(w => w.TotalSeconds));
    }

    [Fact]
    public void TheBackoffDoublesUpToItsCap()
    {
        var options = new WebhookOptions { MaxAttempts = 8, MinBackoffSeconds = 5, MaxBackoffSeconds = 30 };

        Assert.Equal([5, 10, 20, 30, 30, 30, 30], options.Backoff().Select(w => w.TotalSeconds));
        Assert.Empty(new WebhookOptions { MaxAttempts = 1 }.Backoff());
    }

    [Fact]
    public void EnabledWithoutASecretIsRefused()
    {
        OptionsValidationException ex = Refused(new() { ["ArtGrid:Webhooks:Enabled"] = "true" });

        Assert.Contains(ex.Failures, f => f.Contains("SigningSecret", StringComparison.Ordinal));
    }

    [Fact]
    public void AShortSecretIsRefusedAndNeverQuoted()
    {
        OptionsValidationException ex = Refused(new()
        {
            ["ArtGrid:Webhooks:Enabled"] = "true",
            ["ArtGrid:Webhooks:SigningSecret"] = "too-short-secret",
        });

        Assert.Contains(ex.Failures, f => f.Contains("SigningSecret", StringComparison.Ordinal));
        Assert.DoesNotContain("too-short-secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AShortPreviousSecretIsRefused()
    {
        OptionsValidationException ex = Refused(new()
        {
            ["ArtGrid:Webhooks:Enabled"] = "true",
            ["ArtGrid:Webhooks:SigningSecret"] = Secret,
            ["ArtGrid:Webhooks:PreviousSigningSecrets:0"] = "short",
        });

        Assert.Contains(ex.Failures, f => f.Contains("PreviousSigningSecrets", StringComparison.Ordinal));
    }

    [Fact]
    public void AValidSectionIsRead()
    {
        WebhookOptions options = Read(new()
        {
            ["ArtGrid:Webhooks:Enabled"] = "true",
            ["ArtGrid:Webhooks:SigningSecret"] = Secret,
            ["ArtGrid:Webhooks:AllowedHosts:0"] = "*.example.com",
            ["ArtGrid:Webhooks:MaxAttempts"] = "3",
            ["ArtGrid:Webhooks:MinBackoffSeconds"] = "0.5",
        });

        Assert.True(options.Enabled);
        Assert.Equal(["*.example.com"], options.AllowedHosts);
        Assert.Equal([0.5, 1], options.Backoff().Select(w => w.TotalSeconds));
    }

    [Theory]
    [InlineData("MaxAttempts", "0")]
    [InlineData("MaxAttempts", "21")]
    [InlineData("TimeoutSeconds", "0")]
    [InlineData("MinBackoffSeconds", "0")]
    [InlineData("ConcurrentDeliveries", "0")]
    public void OutOfRangeValuesAreRefused(string setting, string value)
    {
        OptionsValidationException ex = Refused(new() { [$"ArtGrid:Webhooks:{setting}"] = value });

        Assert.Contains(ex.Failures, f => f.Contains(setting, StringComparison.Ordinal));
    }

    [Fact]
    public void ABackoffLongerThanTheMinimumCapIsRefused()
    {
        OptionsValidationException ex = Refused(new()
        {
            ["ArtGrid:Webhooks:MinBackoffSeconds"] = "90",
            ["ArtGrid:Webhooks:MaxBackoffSeconds"] = "60",
        });

        Assert.Contains(ex.Failures, f => f.Contains("MinBackoffSeconds", StringComparison.Ordinal));
    }

    [Fact]
    public void AScheduleLongerThanFifteenMinutesIsRefused()
    {
        // 19 waits of up to 10 minutes would hold an event unacknowledged past RabbitMQ's consumer timeout.
        OptionsValidationException ex = Refused(new()
        {
            ["ArtGrid:Webhooks:MaxAttempts"] = "20",
            ["ArtGrid:Webhooks:MaxBackoffSeconds"] = "600",
        });

        Assert.Contains(ex.Failures, f => f.Contains("minutes", StringComparison.Ordinal));
    }
}
