using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Microsoft.Extensions.Time.Testing;

namespace ArtGrid.Tests;

public sealed class DynamicBatcherTests
{
    [Fact]
    public async Task ConcurrentRequestsShareBatchesNoLargerThanTheMaximum()
    {
        var sizes = new List<int>();
        var gate = new ManualResetEventSlim(false);
        await using var batcher = new DynamicBatcher<int, int>(
            "test:0",
            new BatchingOptions(MaxBatchSize: 4, MaxQueueDelay: TimeSpan.FromSeconds(5), QueueCapacity: 100),
            items =>
            {
                gate.Wait(TimeSpan.FromSeconds(10));
                lock (sizes)
                {
                    sizes.Add(items.Count);
                }

                return items.Select(i => i * 10).ToArray();
            });

        Task<BatchedResult<int>>[] calls = Enumerable.Range(0, 10).Select(i => batcher.EnqueueAsync(i)).ToArray();
        gate.Set();
        BatchedResult<int>[] results = await Task.WhenAll(calls);

        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * 10), results.Select(r => r.Value));
        Assert.All(sizes, s => Assert.InRange(s, 1, 4));
        Assert.Equal(10, sizes.Sum());
        Assert.Contains(4, sizes);
        Assert.All(results, r => Assert.InRange(r.BatchSize, 1, 4));
    }

    [Fact]
    public async Task TheLoadCountsQueuedAndRunningRequestsAndEachLeavesBeforeItsCallerHears()
    {
        using var running = new ManualResetEventSlim(false);
        using var release = new ManualResetEventSlim(false);
        var heldWhenAnswered = new List<int>();
        await using var batcher = new DynamicBatcher<int, int>(
            "test:0",
            new BatchingOptions(MaxBatchSize: 2, MaxQueueDelay: TimeSpan.Zero, QueueCapacity: 100),
            items =>
            {
                running.Set();
                release.Wait(TimeSpan.FromSeconds(30));
                return [.. items];
            });

        Task<BatchedResult<int>>[] calls = [.. Enumerable.Range(0, 5).Select(i => batcher.EnqueueAsync(i))];
        Assert.True(running.Wait(TimeSpan.FromSeconds(30)), "no batch started");

        // Five held: a batch of up to two computing, the rest queued.
        Assert.Equal(5, batcher.Held);
        Assert.InRange(batcher.QueueDepth, 3, 4);
        release.Set();
        foreach (Task<BatchedResult<int>> call in calls)
        {
            await call;
            heldWhenAnswered.Add(batcher.Held);
        }

        Assert.Equal(0, batcher.Held);
        Assert.All(heldWhenAnswered, h => Assert.InRange(h, 0, 4)); // a request is never counted once answered
    }

    [Fact]
    public async Task ALoneRequestWaitsForTheQueueDelayAndNoLonger()
    {
        var time = new FakeTimeProvider();
        int executed = 0;
        await using var batcher = new DynamicBatcher<int, int>(
            "test:0",
            new BatchingOptions(MaxBatchSize: 8, MaxQueueDelay: TimeSpan.FromMilliseconds(50), QueueCapacity: 10),
            items =>
            {
                Interlocked.Add(ref executed, items.Count);
                return [.. items];
            },
            time);

        Task<BatchedResult<int>> call = batcher.EnqueueAsync(7);
        await Task.Delay(100); // real time passes; fake time does not
        Assert.False(call.IsCompleted);
        Assert.Equal(0, Volatile.Read(ref executed));

        time.Advance(TimeSpan.FromMilliseconds(50));
        BatchedResult<int> result = await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(7, result.Value);
        Assert.Equal(1, result.BatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(50), result.QueueDelay);
    }

    [Fact]
    public async Task AFullQueueRejectsAtOnceWithARetryHintAndRecovers()
    {
        var release = new TaskCompletionSource();
        await using var batcher = new DynamicBatcher<int, int>(
            "cpu:0",
            new BatchingOptions(MaxBatchSize: 1, MaxQueueDelay: TimeSpan.Zero, QueueCapacity: 2),
            items =>
            {
                release.Task.Wait(TimeSpan.FromSeconds(10));
                return [.. items];
            });

        Task<BatchedResult<int>> first = batcher.EnqueueAsync(1); // taken into the running batch
        await WaitUntil(() => batcher.QueueDepth == 0);
        Task<BatchedResult<int>> second = batcher.EnqueueAsync(2);
        Task<BatchedResult<int>> third = batcher.EnqueueAsync(3);

        OverloadedException rejected = Assert.Throws<OverloadedException>(() => { _ = batcher.EnqueueAsync(4); });
        Assert.Equal("cpu:0", rejected.Device);
        Assert.Equal(2, rejected.QueueCapacity);
        Assert.True(rejected.RetryAfter > TimeSpan.Zero);
        Assert.Contains("Retry after", rejected.Message);

        release.SetResult();
        Assert.Equal([1, 2, 3], (await Task.WhenAll(first, second, third)).Select(r => r.Value));
        Assert.Equal(4, (await batcher.EnqueueAsync(4)).Value);
    }

    [Fact]
    public async Task AFailingBatchFailsItsRequestsButNotTheBatcher()
    {
        int calls = 0;
        await using var batcher = new DynamicBatcher<int, int>(
            "cpu:0",
            new BatchingOptions(1, TimeSpan.Zero, 10),
            items => Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("boom") : [.. items]);

        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.EnqueueAsync(1));
        Assert.Equal(2, (await batcher.EnqueueAsync(2)).Value);
    }

    [Fact]
    public async Task TheLargestPreferredSizeRunsAtOnceWithoutWaitingForTheDelay()
    {
        var time = new WatchedTime();
        var gate = new ManualResetEventSlim(false);
        var batches = new List<int[]>();
        await using var batcher = new DynamicBatcher<int, int>(
            "test:0",
            new BatchingOptions(MaxBatchSize: 16, MaxQueueDelay: TimeSpan.FromMilliseconds(50), QueueCapacity: 100, PreferredBatchSizes: [4, 8]),
            items => Record(batches, items, gate),
            time);

        Task<BatchedResult<int>>[] first = Enumerable.Range(0, 8).Select(i => batcher.EnqueueAsync(i)).ToArray();
        await WaitUntil(() => Count(batches) == 1);
        Task<BatchedResult<int>>[] piled = Enumerable.Range(8, 10).Select(i => batcher.EnqueueAsync(i)).ToArray();
        Assert.Equal(10, batcher.QueueDepth);

        gate.Set();
        await WaitUntil(() => Count(batches) == 2 && batcher.QueueDepth == 0 && time.IsWaitingUntil(TimeSpan.FromMilliseconds(50)));
        Assert.Equal(TimeSpan.Zero, time.Elapsed);
        Assert.All(piled[8..], call => Assert.False(call.IsCompleted));

        time.Advance(TimeSpan.FromMilliseconds(50));
        BatchedResult<int>[] results = await Task.WhenAll(first.Concat(piled)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([8, 8, 2], Snapshot(batches).Select(b => b.Length));
        Assert.Equal(Enumerable.Range(0, 18), Snapshot(batches).SelectMany(b => b));
        Assert.Equal(Enumerable.Range(0, 18).Select(i => i * 10), results.Select(r => r.Value));
        Assert.Equal(Enumerable.Repeat(8, 16).Concat([2, 2]), results.Select(r => r.BatchSize));
    }

    [Fact]
    public async Task WhenTheDelayRunsOutTheLargestPreferredSizeQueuedRunsAndTheRestFollowAtOnce()
    {
        var time = new WatchedTime();
        var gate = new ManualResetEventSlim(false);
        var batches = new List<int[]>();
        await using var batcher = new DynamicBatcher<int, int>(
            "test:0",
            new BatchingOptions(16, TimeSpan.FromMilliseconds(50), 100, [8, 4, 8]), // unsorted and repeated: read as [4, 8]
            items => Record(batches, items, gate),
            time);

        Task<BatchedResult<int>>[] calls = Enumerable.Range(0, 6).Select(i => batcher.EnqueueAsync(i)).ToArray();
        await WaitUntil(() => batcher.QueueDepth == 0 && time.IsWaitingUntil(TimeSpan.FromMilliseconds(50)));
        Assert.Equal(0, Count(batches));

        time.Advance(TimeSpan.FromMilliseconds(50));
        await WaitUntil(() => Count(batches) == 1);
        Assert.Equal([0, 1, 2, 3], Snapshot(batches)[0]);
        Assert.Equal(2, batcher.QueueDepth); // the two left over wait again while the four compute

        gate.Set();
        BatchedResult<int>[] results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([[0, 1, 2, 3], [4, 5]], Snapshot(batches));
        Assert.Equal([0, 10, 20, 30, 40, 50], results.Select(r => r.Value));
        Assert.Equal([4, 4, 4, 4, 2, 2], results.Select(r => r.BatchSize));
        Assert.All(results, r => Assert.Equal(TimeSpan.FromMilliseconds(50), r.QueueDelay));
        Assert.Equal(0, batcher.QueueDepth);
    }

    [Fact]
    public async Task ALeftoverRequestWaitsForItsOwnQueueDelay()
    {
        var time = new WatchedTime();
        var batches = new List<int[]>();
        await using var batcher = new DynamicBatcher<int, int>(
            "test:0",
            new BatchingOptions(8, TimeSpan.FromMilliseconds(50), 100, [2, 4]),
            items => Record(batches, items, gate: null),
            time);

        Task<BatchedResult<int>> oldest = batcher.EnqueueAsync(0);
        await WaitUntil(() => time.IsWaitingUntil(TimeSpan.FromMilliseconds(50)));
        time.Advance(TimeSpan.FromMilliseconds(30));
        Task<BatchedResult<int>> second = batcher.EnqueueAsync(1);
        Task<BatchedResult<int>> youngest = batcher.EnqueueAsync(2);
        await WaitUntil(() => batcher.QueueDepth == 0 && time.IsWaitingUntil(TimeSpan.FromMilliseconds(50)));

        time.Advance(TimeSpan.FromMilliseconds(20));
        await WaitUntil(() => Count(batches) == 1 && batcher.QueueDepth == 0 && time.IsWaitingUntil(TimeSpan.FromMilliseconds(80)));
        Assert.Equal([0, 1], Snapshot(batches)[0]);
        Assert.False(youngest.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(30));
        BatchedResult<int> last = await youngest.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([[0, 1], [2]], Snapshot(batches));
        Assert.Equal(20, last.Value);
        Assert.Equal(1, last.BatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(50), last.QueueDelay);
        Assert.Equal([0, 10], (await Task.WhenAll(oldest, second)).Select(r => r.Value));
    }

    [Fact]
    public async Task CancelledRequestsDoNotCountTowardAPreferredSize()
    {
        var time = new WatchedTime();
        var gate = new ManualResetEventSlim(false);
        var batches = new List<int[]>();
        await using var batcher = new DynamicBatcher<int, int>(
            "test:0",
            new BatchingOptions(8, TimeSpan.FromMilliseconds(50), 100, [4]),
            items => Record(batches, items, gate),
            time);

        Task<BatchedResult<int>>[] first = Enumerable.Range(0, 4).Select(i => batcher.EnqueueAsync(i)).ToArray();
        await WaitUntil(() => Count(batches) == 1);
        using var cancel = new CancellationTokenSource();
        Task<BatchedResult<int>> cancelled = batcher.EnqueueAsync(-1, cancel.Token);
        Task<BatchedResult<int>>[] rest = Enumerable.Range(4, 4).Select(i => batcher.EnqueueAsync(i)).ToArray();
        await cancel.CancelAsync();

        gate.Set();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(10)));
        BatchedResult<int>[] results = await Task.WhenAll(first.Concat(rest)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(TimeSpan.Zero, time.Elapsed);
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7]], Snapshot(batches));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i * 10), results.Select(r => r.Value));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(17)]
    public void APreferredSizeOutsideOneToTheMaximumIsRejected(int bad)
    {
        ArgumentOutOfRangeException thrown = Assert.Throws<ArgumentOutOfRangeException>(() => new DynamicBatcher<int, int>(
            "test:0",
            new BatchingOptions(16, TimeSpan.FromMilliseconds(50), 100, [4, bad, 8]),
            items => [.. items]));

        Assert.Equal(bad, thrown.ActualValue);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), thrown.Message);
    }

    private static int[] Record(List<int[]> batches, IReadOnlyList<int> items, ManualResetEventSlim? gate)
    {
        lock (batches)
        {
            batches.Add([.. items]);
        }

        gate?.Wait(TimeSpan.FromSeconds(10));
        return items.Select(i => i * 10).ToArray();
    }

    private static int Count(List<int[]> batches)
    {
        lock (batches)
        {
            return batches.Count;
        }
    }

    private static int[][] Snapshot(List<int[]> batches)
    {
        lock (batches)
        {
            return [.. batches];
        }
    }

    // Bounded by wall-clock time, not by a number of polls: on a loaded machine (test classes run two at a time) a
    // 5 ms delay can take far longer, and the batcher's loop gets its thread late.
    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!condition() && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(5);
        }

        Assert.True(condition(), $"not reached in {deadline.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// Fake time that knows which timers are pending, so a test advances it only once the batcher has armed its
    /// delay: advancing between the batcher reading the clock and arming the timer would arm it late.
    /// </summary>
    private sealed class WatchedTime : TimeProvider
    {
        private readonly FakeTimeProvider _fake = new();
        private readonly List<DateTimeOffset> _pending = [];
        private readonly DateTimeOffset _start;

        public WatchedTime() => _start = _fake.GetUtcNow();

        public TimeSpan Elapsed => _fake.GetUtcNow() - _start;

        public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

        public override long GetTimestamp() => _fake.GetTimestamp();

        public override long TimestampFrequency => _fake.TimestampFrequency;

        public void Advance(TimeSpan by) => _fake.Advance(by);

        /// <summary>Whether a timer is pending that fires this long after the start.</summary>
        public bool IsWaitingUntil(TimeSpan sinceStart)
        {
            lock (_pending)
            {
                return _pending.Contains(_start + sinceStart);
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            DateTimeOffset due = _fake.GetUtcNow() + dueTime;
            lock (_pending)
            {
                _pending.Add(due);
            }

            return new Watched(this, due, _fake.CreateTimer(callback, state, dueTime, period));
        }

        private sealed class Watched(WatchedTime owner, DateTimeOffset due, ITimer inner) : ITimer
        {
            private bool _disposed;

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                lock (owner._pending)
                {
                    if (!_disposed)
                    {
                        owner._pending.Remove(due);
                        due = owner._fake.GetUtcNow() + dueTime;
                        owner._pending.Add(due);
                    }
                }

                return inner.Change(dueTime, period);
            }

            public void Dispose()
            {
                lock (owner._pending)
                {
                    // Disposed twice when it fires and is then cancelled: forget it only once.
                    if (!_disposed)
                    {
                        _disposed = true;
                        owner._pending.Remove(due);
                    }
                }

                inner.Dispose();
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
