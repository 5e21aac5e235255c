namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// A time limit on one bus operation. MassTransit 8.5 publishes through RabbitMQ.Client 7 with publisher confirms, and
/// a publish waits for its confirm without limit: when the broker restarts between taking a message and confirming it,
/// that confirm can be lost and the publish never returns (rabbitmq/rabbitmq-dotnet-client#1930). A job grain waiting
/// on such a publish would hold its job, and every redelivery of it, for good. Past the deadline the operation is
/// cancelled and a <see cref="TimeoutException"/> thrown, which MassTransit's message retry treats like any other
/// passing failure.
/// </summary>
public static class BusDeadline
{
    public static async Task WithinAsync(TimeSpan deadline, string what, Func<CancellationToken, Task> operation, CancellationToken cancellationToken = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(deadline);
        try
        {
            // WaitAsync as well: an operation that ignores its token still lets the caller go.
            await operation(limit.Token).WaitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The broker did not take {what} within {deadline.TotalSeconds:0.#} s.");
        }
    }
}
