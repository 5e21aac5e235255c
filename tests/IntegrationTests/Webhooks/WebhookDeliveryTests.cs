using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Webhooks;

namespace ArtGrid.Tests.Webhooks;

/// <summary>
/// Per-job webhooks end to end on the real RabbitMQ and Redis: events published on the bus, the webhook consumer in a
/// test-process bus wired as the gateway wires it, a real HTTP receiver on the loopback interface.
/// </summary>
[Collection(WebhookCollection.Name)]
public sealed class WebhookDeliveryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static string NewJobId() => "wh-" + Guid.NewGuid().ToString("N")[..16];

    private static ImagesScored Scored(string jobId) => ImagesScored.Of(
        new JobVerdict(jobId, Labels.Ai, 0.97, "artgrid-resnet18/3", [], DateTimeOffset.UtcNow, ["classifier 0.97 (ai)"]));

    private static async Task<WebhookDelivery> WaitForStateAsync(WebhookHost host, string jobId, string state)
    {
        WebhookDelivery? delivery = null;
        await Wait.UntilAsync(
            () => (delivery = host.Registrations.GetAsync(jobId).GetAwaiter().GetResult())?.State == state,
            Patience,
            $"the webhook of {jobId} did not become {state} (last: {delivery})",
            TimeSpan.FromMilliseconds(100));
        return delivery!;
    }

    /// <summary>Registers a job, publishes its event and waits for delivery: every event published before it has been handled.</summary>
    private static async Task DeliverMarkerAsync(WebhookHost host, WebhookReceiver receiver)
    {
        string marker = NewJobId();
        await host.Registrations.RegisterAsync(marker, receiver.Url($"/marker/{marker}"));
        await host.Bus.Publish(Scored(marker));
        await WaitForStateAsync(host, marker, WebhookStates.Delivered);
    }

    private static void AssertSigned(ReceivedWebhook request) =>
        Assert.True(
            WebhookSignature.Verify(WebhookHost.Secret, request.Signature, request.Body, DateTimeOffset.UtcNow, WebhookSignature.DefaultTolerance),
            $"signature {request.Signature} does not verify");

    [Fact]
    public async Task ACompletedJobIsPostedOnceSignedAndRecordedAsDelivered()
    {
        await using WebhookReceiver receiver = new();
        await using WebhookHost host = await WebhookHost.StartAsync();
        string jobId = NewJobId();
        string path = $"/hooks/{jobId}";
        Assert.Null(await host.Registrations.ValidateCallback(receiver.Url(path)));
        Assert.True(await host.Registrations.RegisterAsync(jobId, receiver.Url(path)));
        Assert.Equal(new WebhookDelivery(receiver.Url(path).AbsoluteUri, WebhookStates.Pending), await host.Registrations.GetAsync(jobId));

        await host.Bus.Publish(Scored(jobId));
        WebhookDelivery delivered = await WaitForStateAsync(host, jobId, WebhookStates.Delivered);
        // The same event again (a republished verdict): already delivered, so nothing is sent.
        await host.Bus.Publish(Scored(jobId));
        await DeliverMarkerAsync(host, receiver);

        ReceivedWebhook request = Assert.Single(receiver.To(path));
        Assert.Equal("POST", request.Method);
        Assert.Equal("application/json", request.ContentType);
        Assert.Equal($"{jobId}:job.completed", request.WebhookId);
        AssertSigned(request);
        using JsonDocument body = JsonDocument.Parse(request.Body);
        Assert.Equal("job.completed", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(jobId, body.RootElement.GetProperty("jobId").GetString());
        Assert.Equal("ai", body.RootElement.GetProperty("verdict").GetProperty("label").GetString());
        Assert.Equal(jobId, body.RootElement.GetProperty("verdict").GetProperty("jobId").GetString());
        Assert.False(body.RootElement.TryGetProperty("rejection", out _));
        Assert.Equal(1, delivered.Attempts);
        Assert.Equal(200, delivered.LastStatusCode);
        Assert.Null(delivered.LastError);
        Assert.NotNull(delivered.DeliveredAt);
        Assert.Equal(delivered, await host.Registrations.GetAsync(jobId));
    }

    [Fact]
    public async Task AReceiverFailingTwiceGetsTheSameSignedBodyOnTheThirdAttempt()
    {
        await using WebhookReceiver receiver = new();
        await using WebhookHost host = await WebhookHost.StartAsync();
        string jobId = NewJobId();
        string path = $"/hooks/{jobId}";
        receiver.Script(path, 500, 503);
        await host.Registrations.RegisterAsync(jobId, receiver.Url(path));

        await host.Bus.Publish(Scored(jobId));
        WebhookDelivery delivered = await WaitForStateAsync(host, jobId, WebhookStates.Delivered);

        Assert.Equal(3, delivered.Attempts);
        Assert.Equal(200, delivered.LastStatusCode);
        IReadOnlyList<ReceivedWebhook> requests = receiver.To(path);
        Assert.Equal(3, requests.Count);
        Assert.All(requests, AssertSigned);
        Assert.All(requests, r => Assert.Equal($"{jobId}:job.completed", r.WebhookId));
        Assert.All(requests, r => Assert.Equal(requests[0].Body, r.Body));
        Assert.Equal(0u, await host.ErrorQueueDepthAsync());
    }

    [Fact]
    public async Task AnUnreachableReceiverEndsFailedAfterMaxAttemptsWithNothingInTheErrorQueue()
    {
        await using WebhookHost host = await WebhookHost.StartAsync();
        string jobId = NewJobId();
        await host.Registrations.RegisterAsync(jobId, new Uri($"http://127.0.0.1:{WebhookReceiver.ClosedPort()}/hooks/{jobId}"));

        await host.Bus.Publish(Scored(jobId));
        WebhookDelivery failed = await WaitForStateAsync(host, jobId, WebhookStates.Failed);

        Assert.Equal(4, failed.Attempts);
        Assert.Null(failed.LastStatusCode);
        Assert.False(string.IsNullOrEmpty(failed.LastError));
        Assert.Null(failed.DeliveredAt);
        Assert.Equal(0u, await host.ErrorQueueDepthAsync());
    }

    [Fact]
    public async Task ARedirectIsNotFollowedAndCountsAsAFailedAttempt()
    {
        await using WebhookReceiver receiver = new();
        await using WebhookHost host = await WebhookHost.StartAsync(new Dictionary<string, string?> { ["ArtGrid:Webhooks:MaxAttempts"] = "2" });
        string jobId = NewJobId();
        string path = $"/hooks/{jobId}";
        receiver.Script(path, 307, 307);
        await host.Registrations.RegisterAsync(jobId, receiver.Url(path));

        await host.Bus.Publish(Scored(jobId));
        WebhookDelivery failed = await WaitForStateAsync(host, jobId, WebhookStates.Failed);

        Assert.Equal(2, failed.Attempts);
        Assert.Equal(307, failed.LastStatusCode);
        Assert.Equal(2, receiver.To(path).Count);
        Assert.Empty(receiver.To(path + "/moved"));
    }

    [Fact]
    public async Task ARejectedJobGetsAJobRejectedBody()
    {
        await using WebhookReceiver receiver = new();
        await using WebhookHost host = await WebhookHost.StartAsync();
        string jobId = NewJobId();
        string path = $"/hooks/{jobId}";
        await host.Registrations.RegisterAsync(jobId, receiver.Url(path));

        await host.Bus.Publish(new ScoreImagesRejected
        {
            JobId = jobId,
            Code = RejectionCodes.UnresolvableImage,
            Reason = "not_found: example.com answered HTTP 404.",
            ImageIndex = 0,
            RejectedAt = DateTimeOffset.UtcNow,
        });
        await WaitForStateAsync(host, jobId, WebhookStates.Delivered);

        ReceivedWebhook request = Assert.Single(receiver.To(path));
        AssertSigned(request);
        Assert.Equal($"{jobId}:job.rejected", request.WebhookId);
        using JsonDocument body = JsonDocument.Parse(request.Body);
        Assert.Equal("job.rejected", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(jobId, body.RootElement.GetProperty("jobId").GetString());
        JsonElement rejection = body.RootElement.GetProperty("rejection");
        Assert.Equal("unresolvable_image", rejection.GetProperty("code").GetString());
        Assert.Equal(0, rejection.GetProperty("imageIndex").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("verdict", out _));
    }

    [Fact]
    public async Task WithoutPrivateNetworksALoopbackCallbackIsRefusedAndRecordedAsFailed()
    {
        await using WebhookReceiver receiver = new();
        await using WebhookHost host = await WebhookHost.StartAsync(new Dictionary<string, string?> { ["ArtGrid:Webhooks:AllowPrivateNetworks"] = "false" });
        string jobId = NewJobId();
        string path = $"/hooks/{jobId}";

        Assert.Contains("not a public address", await host.Registrations.ValidateCallback(receiver.Url(path)), StringComparison.Ordinal);
        // Registered all the same (by a gateway with other settings, say): the connect-time check still refuses it.
        await host.Registrations.RegisterAsync(jobId, receiver.Url(path));
        await host.Bus.Publish(Scored(jobId));
        WebhookDelivery failed = await WaitForStateAsync(host, jobId, WebhookStates.Failed);

        Assert.Equal(1, failed.Attempts);
        Assert.Contains("not public", failed.LastError, StringComparison.Ordinal);
        Assert.Equal(0, receiver.Count);
        Assert.Equal(0u, await host.ErrorQueueDepthAsync());
    }

    [Fact]
    public async Task AnUnregisteredJobSendsNothing()
    {
        await using WebhookReceiver receiver = new();
        await using WebhookHost host = await WebhookHost.StartAsync();
        string jobId = NewJobId();

        await host.Bus.Publish(Scored(jobId));
        await DeliverMarkerAsync(host, receiver);

        Assert.Null(await host.Registrations.GetAsync(jobId));
        ReceivedWebhook only = Assert.Single(receiver.All);
        Assert.StartsWith("/marker/", only.Path, StringComparison.Ordinal);
    }
}

/// <summary>
/// The webhook tests run on their own, after the parallel collections: the cluster tests restart Redis and RabbitMQ,
/// which would fail a delivery for reasons that are not the webhooks'.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WebhookCollection
{
    public const string Name = "webhooks";
}
