using ArtGrid.Grains.Devices;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ArtGrid.Tests.Devices;

public sealed class IntakeGateTests
{
    // Past both the poll interval and the millisecond an answer is kept, so that the next look asks the router again.
    private static readonly TimeSpan OnePoll = IntakeGate.PollInterval + TimeSpan.FromMilliseconds(2);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly FakeRouter _router = new();

    [Fact]
    public void AnOpenGateLetsAWaiterThroughAtOnce()
    {
        IntakeGate gate = Gate();

        Task wait = gate.WaitAsync();

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.Equal(0, gate.Waits);
        Assert.False(gate.Closed);
    }

    [Fact]
    public async Task AClosedGateHoldsAWaiter()
    {
        _router.Saturated = true;
        IntakeGate gate = Gate();

        Task wait = gate.WaitAsync();
        await Task.Delay(50); // real time passes; fake time does not, so no poll runs

        Assert.False(wait.IsCompleted);
        Assert.True(gate.Closed);
    }

    [Fact]
    public async Task ManyWaitersShareOnePoll()
    {
        _router.Saturated = true;
        IntakeGate gate = Gate();

        // Asked from pool threads at once, as bus consumers do; each call returns its waiter task.
        Task[] waits = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Factory.StartNew(() => gate.WaitAsync(), CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default)));
        await Task.Delay(50);

        Assert.All(waits, w => Assert.False(w.IsCompleted));
        // One look per waiter would be 100; the answer is kept for a millisecond of the gate's time, which stands still.
        Assert.InRange(_router.Calls, 1, 5);
    }

    [Fact]
    public async Task OpeningTheGateReleasesEveryWaiterAfterOnePoll()
    {
        _router.Saturated = true;
        IntakeGate gate = Gate();
        Task[] waits = [.. Enumerable.Range(0, 100).Select(_ => gate.WaitAsync())];

        _router.Saturated = false;
        _time.Advance(OnePoll);
        await Task.WhenAll(waits).WaitAsync(Patience);

        // The first look, then one poll for all of them.
        Assert.InRange(_router.Calls, 2, 5);
    }

    [Fact]
    public async Task AGateStillClosedAtThePollKeepsItsWaiters()
    {
        _router.Saturated = true;
        IntakeGate gate = Gate();
        Task wait = gate.WaitAsync();

        _time.Advance(OnePoll);
        await WaitUntil(() => _router.Calls >= 2);
        await Task.Delay(50);

        Assert.False(wait.IsCompleted);
    }

    [Fact]
    public async Task AWaiterWhoseDevicesDrainBeforeThePollStartsIsReleased()
    {
        // The first look finds every device full; by the time the poll loop looks (more than the answer's millisecond
        // later: a slow sum over many devices, a preempted thread) they have room, so the loop ends before it waits once.
        _router.Saturated = true;
        _router.Asked = () =>
        {
            _router.Asked = null;
            _time.Advance(TimeSpan.FromMilliseconds(2));
            _router.Saturated = false;
        };
        IntakeGate gate = Gate();

        Task wait = gate.WaitAsync();

        await wait.WaitAsync(Patience);
        Assert.Equal(1, gate.Waits);
    }

    [Fact]
    public void WaitsCountsEveryWaiterThatWasHeld()
    {
        IntakeGate gate = Gate();
        _ = gate.WaitAsync();

        _router.Saturated = true;
        _time.Advance(OnePoll);
        for (int i = 0; i < 5; i++)
        {
            _ = gate.WaitAsync();
        }

        Assert.Equal(5, gate.Waits);
    }

    [Fact]
    public async Task ACancelledWaiterLeavesTheOthersWaiting()
    {
        _router.Saturated = true;
        IntakeGate gate = Gate();
        using var cancellation = new CancellationTokenSource();
        Task first = gate.WaitAsync();
        Task cancelled = gate.WaitAsync(cancellation.Token);
        Task last = gate.WaitAsync();

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Patience));
        Assert.True(cancelled.IsCanceled);
        Assert.False(first.IsCompleted);
        Assert.False(last.IsCompleted);

        _router.Saturated = false;
        _time.Advance(OnePoll);
        await Task.WhenAll(first, last).WaitAsync(Patience);
    }

    [Fact]
    public void TheRouterIsAskedAtTheConfiguredPauseThreshold()
    {
        IntakeGate gate = Gate(pauseIntakeQueueBatches: 7.5);

        _ = gate.WaitAsync();

        Assert.Equal([7.5], _router.AskedWith);
    }

    [Fact]
    public void TheAnswerIsKeptForAMillisecondOfTheGatesTime()
    {
        IntakeGate gate = Gate();

        _ = gate.Closed;
        _ = gate.Closed;
        _time.Advance(TimeSpan.FromMilliseconds(1));
        _ = gate.Closed;
        Assert.Equal(1, _router.Calls);

        _time.Advance(TimeSpan.FromTicks(1));
        _ = gate.Closed;
        Assert.Equal(2, _router.Calls);
    }

    private IntakeGate Gate(double pauseIntakeQueueBatches = 4) =>
        new(_router, Options.Create(new InferenceOptions { PauseIntakeQueueBatches = pauseIntakeQueueBatches }), _time);

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    /// <summary>A router whose only answer is whether every device is saturated; it counts how often it is asked.</summary>
    private sealed class FakeRouter : IDeviceRouter
    {
        private readonly Lock _lock = new();
        private readonly List<double> _askedWith = [];
        private volatile bool _saturated;

        /// <summary>The answer to <see cref="AllSaturated"/>; set from the test while the gate's poll loop reads it.</summary>
        public bool Saturated
        {
            get => _saturated;
            set => _saturated = value;
        }

        /// <summary>Runs after each question is answered: lets a test move time or change the answer in between.</summary>
        public Action? Asked { get; set; }

        public int Calls
        {
            get
            {
                lock (_lock)
                {
                    return _askedWith.Count;
                }
            }
        }

        public IReadOnlyList<double> AskedWith
        {
            get
            {
                lock (_lock)
                {
                    return [.. _askedWith];
                }
            }
        }

        public bool AllSaturated(double fullBatches)
        {
            bool answer = Saturated;
            lock (_lock)
            {
                _askedWith.Add(fullBatches);
            }

            Asked?.Invoke();
            return answer;
        }

        public DeviceRoute Pick(string modelId, IReadOnlySet<string>? avoid = null) => throw new NotSupportedException();

        public void Sent(DeviceRoute route) => throw new NotSupportedException();

        public void Returned(DeviceRoute route, int? devicePending) => throw new NotSupportedException();

        public void MarkDown(DeviceRoute route) => throw new NotSupportedException();
    }
}
