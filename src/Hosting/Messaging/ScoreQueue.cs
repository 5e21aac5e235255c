using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace ArtGrid.Hosting.Messaging;

/// <summary>
/// The command queue's one declaration, made the same way by every party that makes it: a durable queue NAME with
/// <c>x-max-priority</c> = <see cref="MaxPriority"/> (RabbitMQ ignores a message's priority on a queue declared without
/// it), bound to the durable fanout exchange NAME, which is what MassTransit's receive endpoint declares.
/// <list type="bullet">
/// <item>The silos' receive endpoint declares it through MassTransit (<see cref="ConfigureEndpoint"/>, from
/// <see cref="ScoreImagesConsumerDefinition"/>), and checks it first (<see cref="ScoreQueueCheck"/>).</item>
/// <item>Senders (the gateway, <c>artgrid submit</c>, the benches, the tests) call <see cref="DeclareAsync"/>, which
/// declares it over a connection of its own and returns the address to send to: the exchange. MassTransit 8.5 declares
/// the queue of a <c>queue:NAME</c> send address with no arguments (its addresses cannot carry queue arguments), and
/// RabbitMQ refuses a declaration whose arguments differ from the queue's (PRECONDITION_FAILED), which is what hung every
/// sender when only the silos declared the argument. An <c>exchange:NAME</c> address declares the exchange alone, with
/// the same type and flags as the silos' declaration.</item>
/// </list>
/// The error queue ("NAME_error") has no priority: <see cref="ConfigureBus"/> drops the argument MassTransit would
/// otherwise copy to it from its endpoint's queue.
/// </summary>
public static class ScoreQueue
{
    /// <summary>The queue argument that makes RabbitMQ order a queue by message priority.</summary>
    public const string MaxPriorityArgument = "x-max-priority";

    /// <summary>The highest priority a job can have: ten levels, 0 (the default) to 9, as <c>ScoreImages.Priority</c>.</summary>
    public const int MaxPriority = 9;

    /// <summary>The one-time migration of a queue declared before priorities were honoured (docs/OPERATIONS.md).</summary>
    public const string Migration = "deploy/migrate-priority-queue.sh";

    /// <summary>The queue's arguments, as every party declares them (an <see cref="int"/>, as MassTransit sets it).</summary>
    public static Dictionary<string, object?> Arguments() => new() { [MaxPriorityArgument] = MaxPriority };

    /// <summary>The address senders use: the exchange bound to the queue (see the class's remarks).</summary>
    public static Uri SendAddress(string queueName) => new($"exchange:{queueName}");

    /// <summary>The silos' receive endpoint: the queue with its priority argument.</summary>
    public static void ConfigureEndpoint(IReceiveEndpointConfigurator endpoint)
    {
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQueueArgument(MaxPriorityArgument, MaxPriority);
        }
    }

    /// <summary>Every bus: error and dead-letter queues without the priority argument their endpoint's queue has.</summary>
    public static void ConfigureBus(IRabbitMqBusFactoryConfigurator bus)
    {
        bus.SendTopology.ConfigureErrorSettings = error => error.SetQueueArgument(MaxPriorityArgument, null);
        bus.SendTopology.ConfigureDeadLetterSettings = deadLetter => deadLetter.SetQueueArgument(MaxPriorityArgument, null);
    }

    /// <summary>
    /// Declares the exchange, the queue (with its priority argument) and their binding on <paramref name="rabbitMq"/>,
    /// as the silos do, over a connection of its own, and returns <see cref="SendAddress"/>. Declaring is idempotent; it
    /// makes a queue that no silo has declared yet, so that jobs sent before the first silo starts wait for it.
    /// </summary>
    /// <exception cref="ScoreQueueMismatchException">The queue exists with other arguments (declared before priorities).</exception>
    public static async Task<Uri> DeclareAsync(Uri rabbitMq, string queueName, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = AmqpUri(rabbitMq), ClientProvidedName = "artgrid-score-queue", AutomaticRecoveryEnabled = false };
        await using IConnection connection = await factory.CreateConnectionAsync(cancellationToken);
        await using IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(queueName, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        try
        {
            await channel.QueueDeclareAsync(queueName, durable: true, exclusive: false, autoDelete: false, Arguments(), cancellationToken: cancellationToken);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406)
        {
            throw new ScoreQueueMismatchException(queueName, ex.ShutdownReason.ReplyText, ex);
        }

        await channel.QueueBindAsync(queueName, queueName, routingKey: "", cancellationToken: cancellationToken);
        return SendAddress(queueName);
    }

    /// <summary>Whether <paramref name="exception"/> (or one inside it) is RabbitMQ refusing the queue's arguments.</summary>
    public static bool IsMismatch(Exception exception) => exception switch
    {
        ScoreQueueMismatchException => true,
        OperationInterruptedException { ShutdownReason: { ReplyCode: 406 } reason } => reason.ReplyText.Contains(MaxPriorityArgument, StringComparison.Ordinal),
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsMismatch),
        { InnerException: { } inner } => IsMismatch(inner),
        _ => false,
    };

    // MassTransit also takes rabbitmq:// and rabbitmqs:// and host options in the query; RabbitMQ's client takes neither.
    private static Uri AmqpUri(Uri address) => new UriBuilder(address)
    {
        Scheme = address.Scheme is "rabbitmqs" or "amqps" ? "amqps" : "amqp",
        Port = address.IsDefaultPort ? -1 : address.Port,
        Query = "",
    }.Uri;
}

/// <summary>
/// RabbitMQ refused to declare the command queue with its priority argument: the queue exists with other arguments,
/// usually because it was declared before job priorities were honoured. It takes a one-time migration.
/// </summary>
public sealed class ScoreQueueMismatchException(string queueName, string brokerReply, Exception? inner = null)
    : InvalidOperationException(
        $"RabbitMQ's queue '{queueName}' exists with other arguments than {ScoreQueue.MaxPriorityArgument}={ScoreQueue.MaxPriority} " +
        $"(a queue declared before job priorities were honoured): {brokerReply}. Nothing can be sent to it or consumed from it until it is " +
        $"migrated once: stop the silos and run {ScoreQueue.Migration} (docs/OPERATIONS.md, 'Priority queue migration').",
        inner)
{
    public string QueueName { get; } = queueName;
}

/// <summary>
/// A long-lived sender's address of the command queue (the gateway's): the queue declared once, at the first send, and
/// again at the next send after a declaration failed; then <see cref="ScoreQueue.SendAddress"/>.
/// </summary>
public sealed class ScoreQueueAddress(Uri rabbitMq, string queueName)
{
    private Task<Uri>? _declared;

    public string QueueName => queueName;

    /// <exception cref="ScoreQueueMismatchException">The queue exists with other arguments.</exception>
    public Task<Uri> GetAsync(CancellationToken cancellationToken)
    {
        Task<Uri>? declared = _declared;
        if (declared is null || declared.IsFaulted || declared.IsCanceled)
        {
            // Two sends racing here both declare: declaring is idempotent.
            declared = _declared = ScoreQueue.DeclareAsync(rabbitMq, queueName, CancellationToken.None);
        }

        return declared.WaitAsync(cancellationToken);
    }
}
