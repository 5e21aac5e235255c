using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// The replies to requests (<c>GetResponse&lt;ImagesScored, ScoreImagesRejected&gt;</c>), sent mandatory, and sent again
/// in the background when the broker returns one because no queue is bound at its address. A requester's reply queue
/// (MassTransit's bus endpoint: non-durable, auto-deleted) is gone after a broker restart until that requester's bus
/// declares it again, which each bus does on its own reconnect schedule, up to about 40 s after the broker is back; a
/// reply sent in that window used to be dropped by the broker without a word (the publish is confirmed all the same),
/// and its requester waited out its whole timeout for a verdict published long before. A returned reply is sent again
/// every few seconds until a queue takes it, for up to <see cref="BusOptions.ReplyRetrySeconds"/>, then dropped with a
/// warning: its requester is gone. The job itself ends as usual meanwhile (its outcome is recorded and published; only
/// the answer waits), and no consumer slot is held, so that a requester gone for good (a killed
/// <c>artgrid submit --wait</c> with thousands of jobs queued) costs the silo a small object per reply for that long, at
/// most <see cref="MaxPending"/> of them.
/// <para>
/// Replies go through the bus, not <see cref="ConsumeContext.RespondAsync{T}(T)"/>: MassTransit waits for every send
/// made through the consume context once the consumer returns, and one that failed (returned) fails the message, which
/// would then go to the error queue although its job is done.
/// </para>
/// </summary>
public sealed partial class Replies(
    IBus bus,
    IOptions<BusOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<Replies> logger)
{
    /// <summary>The most returned replies retried at once; beyond, a returned reply is dropped at once.</summary>
    public const int MaxPending = 10_000;

    private static readonly TimeSpan FirstInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(5);

    private const string NoQueue = "returned by the broker: no queue is bound at its address";

    private int _pending;

    /// <summary>Returned replies being sent again now.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>
    /// Answers <paramref name="request"/> with <paramref name="reply"/> when it is a request (it has a request id),
    /// within <see cref="BusOptions.PublishTimeout"/>: to its response address, where a reply the broker returns is sent
    /// again in the background and this returns; published, as MassTransit does, when it names no response address.
    /// </summary>
    public async Task SendAsync<T>(ConsumeContext request, string jobId, T reply)
        where T : class
    {
        if (request.RequestId is not { } requestId)
        {
            return;
        }

        if (request.ResponseAddress is not { } address)
        {
            // A request with nowhere to answer: MassTransit publishes the reply instead, as it always did here.
            await BusDeadline.WithinAsync(options.Value.PublishTimeout, $"the reply to job {jobId}", _ => request.RespondAsync(reply), request.CancellationToken);
            return;
        }

        try
        {
            await SendOnceAsync(address, requestId, request, jobId, reply, request.CancellationToken);
        }
        catch (MessageReturnedException)
        {
            Retry(jobId, address, requestId, reply);
        }
    }

    // Mandatory on RabbitMQ: a reply no queue takes is returned instead of dropped.
    private static void Mandatory<T>(SendContext<T> context)
        where T : class
    {
        if (context.TryGetPayload(out RabbitMqSendContext? rabbit))
        {
            rabbit.Mandatory = true;
        }
    }

    private void Retry<T>(string jobId, Uri address, Guid requestId, T reply)
        where T : class
    {
        if (Interlocked.Increment(ref _pending) > MaxPending)
        {
            Interlocked.Decrement(ref _pending);
            LogDropped(jobId, address, "too many replies are waiting already");
            return;
        }

        LogReturned(jobId, address, options.Value.ReplyRetrySeconds);
        _ = RetryAsync(jobId, address, requestId, reply);
    }

    private async Task SendOnceAsync<T>(Uri address, Guid requestId, ConsumeContext? request, string jobId, T reply, CancellationToken cancellationToken)
        where T : class
    {
        ISendEndpoint endpoint = await bus.GetSendEndpoint(address);
        await BusDeadline.WithinAsync(
            options.Value.PublishTimeout,
            $"the reply to job {jobId}",
            token => endpoint.Send(reply, context =>
            {
                // What RespondAsync sets; requesters match a reply by its request id.
                context.RequestId = requestId;
                if (request is not null)
                {
                    context.ConversationId = request.ConversationId;
                    context.InitiatorId = request.MessageId;
                    context.SourceAddress = request.ReceiveContext.InputAddress;
                }

                Mandatory(context);
            }, token),
            cancellationToken);
    }

    private async Task RetryAsync<T>(string jobId, Uri address, Guid requestId, T reply)
        where T : class
    {
        try
        {
            long start = time.GetTimestamp();
            TimeSpan limit = TimeSpan.FromSeconds(options.Value.ReplyRetrySeconds);
            TimeSpan interval = FirstInterval;
            string last = NoQueue;
            while (time.GetElapsedTime(start) + interval <= limit)
            {
                await Task.Delay(interval, time, lifetime.ApplicationStopping);
                try
                {
                    await SendOnceAsync(address, requestId, null, jobId, reply, lifetime.ApplicationStopping);
                    LogDelivered(jobId, address, time.GetElapsedTime(start).TotalSeconds);
                    return;
                }
                catch (MessageReturnedException)
                {
                    last = NoQueue;
                }
                catch (Exception ex) when (!lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    // The broker away, a channel closed under the send: the next round tries again.
                    last = $"{ex.GetType().Name}: {ex.Message}";
                }

                interval = interval * 2 < MaxInterval ? interval * 2 : MaxInterval;
            }

            LogDropped(jobId, address, $"still undelivered after {limit.TotalSeconds:0.#} s ({last}); its requester is gone");
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            LogDropped(jobId, address, "the silo is stopping");
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "The reply to job {JobId} was returned by the broker (no queue at {Address}: its requester is reconnecting or gone); sending it again for up to {Seconds} s")]
    private partial void LogReturned(string jobId, Uri address, double seconds);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Information, Message = "The reply to job {JobId} reached {Address} {Seconds:0.0} s after the broker first returned it")]
    private partial void LogDelivered(string jobId, Uri address, double seconds);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Warning, Message = "The reply to job {JobId} for {Address} was dropped: {Reason}; the job's outcome stands in its record and was published")]
    private partial void LogDropped(string jobId, Uri address, string reason);
}
