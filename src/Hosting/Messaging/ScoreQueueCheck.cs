using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// A silo's first step, before it joins the cluster or its bus starts: declares the command queue as its receive endpoint
/// will (<see cref="ScoreQueue.DeclareAsync"/>). A queue that exists without the priority argument would otherwise have
/// the bus retry its declaration forever, consuming nothing; here the silo logs what is wrong and how to migrate, and
/// stops (the silo's program exits with code 3). A broker that does not answer yet is left to the bus, which declares the
/// queue when it connects; should that declaration be refused, <see cref="ScoreQueueFaultObserver"/> says why.
/// </summary>
internal sealed partial class ScoreQueueCheck(Uri rabbitMq, IOptions<BusOptions> bus, ILogger<ScoreQueueCheck> logger) : IHostedService
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        string queue = bus.Value.QueueName;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await ScoreQueue.DeclareAsync(rabbitMq, queue, timeout.Token);
        }
        catch (ScoreQueueMismatchException ex)
        {
            LogMismatch(ex.Message);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogUnchecked(queue, ex.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4010, Level = LogLevel.Critical, Message = "{Problem} The silo stops.")]
    private partial void LogMismatch(string problem);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "Could not check the declaration of queue {Queue} now ({Reason}); the bus declares it when the broker answers")]
    private partial void LogUnchecked(string queue, string reason);
}

/// <summary>
/// Names the migration when the bus's own declaration of the command queue is refused for its priority argument (a
/// broker that was away at start, or whose queue was declared again without the argument while the silo ran): the bus
/// goes on retrying, and every refusal logs this error, so that the silo is unready and says why.
/// </summary>
internal sealed partial class ScoreQueueFaultObserver(IOptions<BusOptions> bus, ILogger<ScoreQueueFaultObserver> logger) : IReceiveEndpointObserver
{
    public Task Ready(ReceiveEndpointReady ready) => Task.CompletedTask;

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        if (faulted.Exception is { } exception && ScoreQueue.IsMismatch(exception))
        {
            LogMismatch(new ScoreQueueMismatchException(bus.Value.QueueName, exception.GetBaseException().Message).Message);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 4012, Level = LogLevel.Error, Message = "{Problem} The bus retries its declaration until then.")]
    private partial void LogMismatch(string problem);
}
