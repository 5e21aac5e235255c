using ArtGrid.Abstractions;
using ArtGrid.Grains.Inference;
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

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(5);
        }

        Assert.True(condition());
    }
}
