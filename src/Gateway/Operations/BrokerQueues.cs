using ArtGrid.Hosting.Operations;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace ArtGrid.Gateway.Operations;

/// <summary>
/// Message counts of queues, read from RabbitMQ with a passive declare (it creates nothing, and needs no management
/// plugin) on one connection of its own, opened at the first read and opened again once lost. MassTransit keeps its
/// connection to itself, and a declare that names a missing queue closes its channel: each read takes a fresh channel.
/// </summary>
internal sealed class BrokerQueues(Uri rabbitMq) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private IConnection? _connection;

    /// <summary>The queue's ready messages and consumers; a queue that does not exist (yet) counts 0 and 0.</summary>
    public async Task<BrokerQueue> CountAsync(string queue, CancellationToken cancellationToken)
    {
        IConnection connection = await ConnectAsync(cancellationToken);
        await using IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            QueueDeclareOk ok = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            return new BrokerQueue(queue, ok.MessageCount, ok.ConsumerCount);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            // MassTransit declares an error queue when it first moves a message there: none yet means none failed.
            return new BrokerQueue(queue, 0, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _connecting.Dispose();
    }

    private async Task<IConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true } open)
        {
            return open;
        }

        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { IsOpen: true } again)
            {
                return again;
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }

            var factory = new ConnectionFactory { Uri = rabbitMq, ClientProvidedName = "artgrid-gateway-ops", AutomaticRecoveryEnabled = false };
            _connection = await factory.CreateConnectionAsync(cancellationToken);
            return _connection;
        }
        finally
        {
            _connecting.Release();
        }
    }
}
