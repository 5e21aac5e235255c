using System.Diagnostics;
using System.Threading.Channels;

namespace ArtGrid.Inference;

/// <summary>How a <see cref="DynamicBatcher{TIn,TOut}"/> forms batches.</summary>
/// <param name="MaxBatchSize">The most requests one batch may hold.</param>
/// <param name="MaxQueueDelay">The longest the oldest queued request waits for its batch to fill.</param>
/// <param name="QueueCapacity">The most requests that may wait; more are rejected at once.</param>
/// <param name="PreferredBatchSizes">
/// Batch sizes the device runs best at, each in 1..<paramref name="MaxBatchSize"/>; null or empty for none.
/// </param>
public sealed record BatchingOptions(int MaxBatchSize, TimeSpan MaxQueueDelay, int QueueCapacity, IReadOnlyList<int>? PreferredBatchSizes = null);

/// <summary>What a batched request got back, and what it cost.</summary>
public readonly record struct BatchedResult<T>(T Value, TimeSpan QueueDelay, TimeSpan Compute, int BatchSize);

/// <summary>
/// Triton-style dynamic batching for one device: requests queue (bounded: a full queue rejects at once with a
/// retry hint), and one loop on the thread pool takes up to <c>MaxBatchSize</c> of them, waiting at most
/// <c>MaxQueueDelay</c> after the oldest arrived for the batch to fill, then runs them in one call. One batch
/// is in flight at a time.
/// </summary>
/// <remarks>
/// With <c>PreferredBatchSizes</c>, a batch runs at once when the largest preferred size is queued (so no batch
/// is larger); when the oldest request's delay runs out it runs the largest preferred size that is queued, or
/// everything queued when that is fewer than the smallest preferred size. Requests left over keep their place
/// at the head of the queue and their own arrival time, so the next batch may be due at once.
/// </remarks>
public sealed class DynamicBatcher<TIn, TOut> : IAsyncDisposable
{
    private readonly string _device;
    private readonly BatchingOptions _options;
    private readonly int[] _preferred;
    private readonly int _fillTarget;
    private readonly Func<IReadOnlyList<TIn>, TOut[]> _execute;
    private readonly TimeProvider _time;
    private readonly Action<int, TimeSpan>? _onBatch;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private volatile bool _closed;
    private int _queued;
    private int _held;
    private long _lastBatchTicks = TimeSpan.FromMilliseconds(10).Ticks;

    /// <param name="onBatch">Told the size and compute time of every batch that ran (for metrics).</param>
    public DynamicBatcher(
        string device,
        BatchingOptions options,
        Func<IReadOnlyList<TIn>, TOut[]> execute,
        TimeProvider? time = null,
        Action<int, TimeSpan>? onBatch = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.QueueCapacity, 1);
        foreach (int size in options.PreferredBatchSizes ?? [])
        {
            if (size < 1 || size > options.MaxBatchSize)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(options), size, $"Preferred batch size {size} is outside 1..{options.MaxBatchSize}.");
            }
        }

        _preferred = [.. (options.PreferredBatchSizes ?? []).Distinct().Order()];
        _fillTarget = _preferred.Length > 0 ? _preferred[^1] : options.MaxBatchSize;
        _device = device;
        _options = options;
        _execute = execute;
        _time = time ?? TimeProvider.System;
        _onBatch = onBatch;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Requests waiting, not counting the batch being computed.</summary>
    public int QueueDepth => Volatile.Read(ref _queued);

    /// <summary>
    /// The device's load, counted here alone: requests it holds, queued or in the batch it is computing. A request
    /// leaves the count just before its caller hears its result. Routers read it as the device's load, metrics as its
    /// queue depth, and every answer carries it.
    /// </summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Queues one request; throws <see cref="OverloadedException"/> at once when the queue is full.</summary>
    public Task<BatchedResult<TOut>> EnqueueAsync(TIn item, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (Interlocked.Increment(ref _queued) > _options.QueueCapacity)
        {
            Interlocked.Decrement(ref _queued);
            throw new OverloadedException(_device, _options.QueueCapacity, RetryHint());
        }

        var pending = new Pending(item, _time.GetTimestamp(), cancellationToken);
        Interlocked.Increment(ref _held);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _held);
            Interlocked.Decrement(ref _queued);
            throw new ObjectDisposedException(nameof(DynamicBatcher<TIn, TOut>));
        }

        return pending.Completion.Task;
    }

    // Time to drain what is queued now, at the last batch's speed; batches stop growing at the fill target.
    private TimeSpan RetryHint()
    {
        long batches = (QueueDepth + _fillTarget - 1) / _fillTarget;
        return TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, batches * Interlocked.Read(ref _lastBatchTicks)));
    }

    private async Task RunAsync()
    {
        ChannelReader<Pending> reader = _queue.Reader;
        var batch = new List<Pending>(_fillTarget);

        // Requests taken from the channel but not run: older than anything still in it, so they go first.
        var leftovers = new List<Pending>(_fillTarget);
        while (true)
        {
            batch.Clear();
            foreach (Pending pending in leftovers)
            {
                Take(pending, batch);
            }

            leftovers.Clear();
            TakeAvailable(reader, batch);
            if (batch.Count == 0)
            {
                if (!await reader.WaitToReadAsync())
                {
                    return;
                }

                continue;
            }

            // Wait for the batch to fill, but never keep the oldest request longer than the queue delay.
            while (batch.Count < _fillTarget)
            {
                TimeSpan remaining = _options.MaxQueueDelay - _time.GetElapsedTime(batch[0].EnqueuedAt);
                if (remaining <= TimeSpan.Zero)
                {
                    break;
                }

                using var wait = new CancellationTokenSource();
                Task<bool> more = reader.WaitToReadAsync(wait.Token).AsTask();
                Task delay = Task.Delay(remaining, _time, wait.Token);
                Task first = await Task.WhenAny(more, delay);
                await wait.CancelAsync();
                if (first != more || !await more)
                {
                    break;
                }

                TakeAvailable(reader, batch);
            }

            // What arrived as the delay ran out counts toward choosing the size.
            TakeAvailable(reader, batch);
            int size = BatchSize(batch.Count);
            if (size < batch.Count)
            {
                leftovers.AddRange(batch.Skip(size));
                batch.RemoveRange(size, batch.Count - size);
                Interlocked.Add(ref _queued, leftovers.Count);
            }

            Execute(batch);
        }
    }

    private void TakeAvailable(ChannelReader<Pending> reader, List<Pending> batch)
    {
        while (batch.Count < _fillTarget && reader.TryRead(out Pending? pending))
        {
            Take(pending, batch);
        }
    }

    private void Take(Pending pending, List<Pending> batch)
    {
        Interlocked.Decrement(ref _queued);
        if (pending.CancellationToken.IsCancellationRequested)
        {
            Interlocked.Decrement(ref _held);
            pending.Completion.TrySetCanceled(pending.CancellationToken);
            return;
        }

        batch.Add(pending);
    }

    // How many of the queued requests to run now: the largest preferred size that fits, else all of them.
    private int BatchSize(int queued)
    {
        for (int i = _preferred.Length - 1; i >= 0; i--)
        {
            if (_preferred[i] <= queued)
            {
                return _preferred[i];
            }
        }

        return queued;
    }

    private void Execute(List<Pending> batch)
    {
        long start = _time.GetTimestamp();
        TOut[] results;
        TimeSpan compute;
        try
        {
            results = _execute(batch.ConvertAll(p => p.Item));
            compute = _time.GetElapsedTime(start);
            Interlocked.Exchange(ref _lastBatchTicks, Math.Max(compute.Ticks, TimeSpan.TicksPerMillisecond));
            _onBatch?.Invoke(batch.Count, compute);
            if (results.Length != batch.Count)
            {
                throw new InvalidOperationException($"The batch of {batch.Count} returned {results.Length} results.");
            }
        }
        catch (Exception ex)
        {
            Interlocked.Add(ref _held, -batch.Count);
            foreach (Pending pending in batch)
            {
                pending.Completion.TrySetException(ex);
            }

            return;
        }

        Interlocked.Add(ref _held, -batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            TimeSpan queued = TimeSpan.FromTicks(Math.Max(0, (start - batch[i].EnqueuedAt) * TimeSpan.TicksPerSecond / _time.TimestampFrequency));
            batch[i].Completion.TrySetResult(new BatchedResult<TOut>(results[i], queued, compute, batch.Count));
        }
    }

    /// <summary>Refuses new requests and finishes the queued ones.</summary>
    public async ValueTask DisposeAsync()
    {
        _closed = true;
        _queue.Writer.TryComplete();
        await _loop;
    }

    private sealed class Pending(TIn item, long enqueuedAt, CancellationToken cancellationToken)
    {
        public TIn Item { get; } = item;

        public long EnqueuedAt { get; } = enqueuedAt;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<BatchedResult<TOut>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
