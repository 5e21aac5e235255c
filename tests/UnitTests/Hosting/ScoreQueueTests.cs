using ArtGrid.Hosting.Messaging;
using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace ArtGrid.Tests.Hosting;

/// <summary>The job queue's one declaration: its argument, its send address, and how a refusal of it is recognised.</summary>
public sealed class ScoreQueueTests
{
    private const string Refusal = "PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue 'score-images' in vhost '/': received the value '9' of type 'signedint' but current is none";

    [Fact]
    public void TheQueueHasTenPriorities_AsManyAsAJobCanAskFor()
    {
        Assert.Equal(new Dictionary<string, object?> { ["x-max-priority"] = 9 }, ScoreQueue.Arguments());
        Assert.Equal(9, ScoreQueue.MaxPriority);
        // An int, as MassTransit's endpoint sets it: RabbitMQ compares the value's type as well as the value.
        Assert.IsType<int>(ScoreQueue.Arguments()["x-max-priority"]);
    }

    [Fact]
    public void SendersSendToTheExchange_WhichDeclaresNoQueueOfItsOwn()
    {
        Assert.Equal(new Uri("exchange:score-images-run7"), ScoreQueue.SendAddress("score-images-run7"));
    }

    [Fact]
    public void TheBrokersRefusalOfThePriority_IsRecognisedInsideMassTransitsExceptions_AndNothingElseIs()
    {
        var refused = new OperationInterruptedException(new ShutdownEventArgs(ShutdownInitiator.Peer, 406, Refusal));
        Assert.True(ScoreQueue.IsMismatch(refused));
        Assert.True(ScoreQueue.IsMismatch(new RabbitMqConnectionException("connect failed", refused)));
        Assert.True(ScoreQueue.IsMismatch(new AggregateException(new TimeoutException(), refused)));

        Assert.False(ScoreQueue.IsMismatch(new OperationInterruptedException(new ShutdownEventArgs(ShutdownInitiator.Peer, 406, "PRECONDITION_FAILED - inequivalent arg 'durable'"))));
        Assert.False(ScoreQueue.IsMismatch(new OperationInterruptedException(new ShutdownEventArgs(ShutdownInitiator.Peer, 404, "NOT_FOUND - no queue 'x-max-priority'"))));
        Assert.False(ScoreQueue.IsMismatch(new InvalidOperationException(Refusal)));
    }

    [Fact]
    public void TheMismatchNamesTheQueueTheBrokersReplyAndTheMigration()
    {
        var mismatch = new ScoreQueueMismatchException("score-images", Refusal);
        Assert.True(ScoreQueue.IsMismatch(mismatch));
        Assert.Contains("'score-images'", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains(Refusal, mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("deploy/migrate-priority-queue.sh", mismatch.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(TestAssets.RepositoryRoot, ScoreQueue.Migration)));
    }
}
