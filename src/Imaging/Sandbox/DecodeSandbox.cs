using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging.Sandbox;

/// <summary>
/// A pool of long-lived decode worker processes. Each image goes to an idle worker with a deadline and a memory
/// ceiling; a worker that overruns either is killed and replaced, and only that image fails (decode_timeout,
/// decode_memory_limit). A worker that dies on its own is replaced and the image tried again on the fresh one
/// (decoder_crashed when it dies again). Workers return resized RGB pixels; the tensor is packed here.
/// </summary>
public sealed partial class DecodeSandbox : IImagePreparer, IAsyncDisposable
{
    private readonly DecodeSandboxOptions _options;
    private readonly PreprocessingOptions _preprocessing;
    private readonly DecodeInstruments _instruments;
    private readonly ILogger<DecodeSandbox> _logger;
    private readonly Slot[] _slots;
    private readonly Channel<Slot> _idle;
    private readonly CancellationTokenSource _stopping = new();
    private int _nextRequestId;
    private long _restarts;
    private int _disposed;

    public DecodeSandbox(IOptions<DecodeSandboxOptions> options, IOptions<PreprocessingOptions> preprocessing, DecodeInstruments instruments, ILogger<DecodeSandbox> logger)
    {
        _options = options.Value;
        _preprocessing = preprocessing.Value;
        _instruments = instruments;
        _logger = logger;
        _slots = [.. Enumerable.Range(0, _options.WorkerCount).Select(_ => new Slot())];
        _idle = Channel.CreateUnbounded<Slot>();
        foreach (Slot slot in _slots)
        {
            _idle.Writer.TryWrite(slot);
        }
    }

    /// <summary>Workers replaced so far (timeouts, memory, crashes, recycling).</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>Workers decoding an image now.</summary>
    public int BusyWorkers => _slots.Length - _idle.Reader.Count;

    /// <summary>What the workers said of their confinement when the pool started (<see cref="WorkerConfinement"/>).</summary>
    public string Confinement { get; private set; } = "";

    /// <summary>The running workers' process ids (for operators and tests).</summary>
    public IReadOnlyList<int> WorkerProcessIds =>
        [.. _slots.Select(s => s.Starting is { IsCompletedSuccessfully: true } t ? t.Result.ProcessId : 0).Where(id => id != 0)];

    /// <summary>Starts every worker; throws when one cannot start, so that a host with no usable decoder fails at start-up.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        foreach (Slot slot in _slots)
        {
            slot.Starting ??= StartWorkerAsync();
        }

        DecodeWorkerProcess[] workers = await Task.WhenAll(_slots.Select(s => s.Starting!)).WaitAsync(cancellationToken);
        Confinement = workers[0].Confinement;
        LogPoolStarted(_slots.Length, _preprocessing.Decoder.ToString(), _options.Timeout.TotalMilliseconds, _options.MemoryLimitMegabytes);
        if (_options.Confinement == ConfinementMode.Off)
        {
            LogUnconfined(Confinement);
        }
        else if (WorkerConfinement.IsComplete(Confinement))
        {
            LogConfined(Confinement);
        }
        else
        {
            LogPartlyConfined(Confinement);
        }
    }

    public async Task<PreparedImage> PrepareAsync(byte[] bytes, ModelInputSpec spec, bool keepOriented = false, CancellationToken cancellationToken = default)
    {
        Slot slot = await _idle.Reader.ReadAsync(cancellationToken);

        // The slot goes back to the pool only when its worker has answered (or been replaced), even if this caller
        // stops waiting: a late answer must never reach the next image.
        Task<PreparedImage> run = RunOnSlotAsync(slot, bytes, spec, keepOriented);
        return await run.WaitAsync(cancellationToken);
    }

    private async Task<PreparedImage> RunOnSlotAsync(Slot slot, byte[] bytes, ModelInputSpec spec, bool keepOriented)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                (PreparedImage prepared, ReadOnlyMemory<byte>? resized) = await DecodeOnceAsync(slot, bytes, spec.Framing, keepOriented);
                if (prepared.Error?.Code == ErrorCodes.DecoderCrashed && attempt < _options.CrashRetries)
                {
                    LogRetryingAfterCrash(prepared.Error.Message);
                    continue;
                }

                _instruments.Decoded(prepared.Error?.Code ?? "ok", Stopwatch.GetElapsedTime(start));
                if (resized is { } pixels)
                {
                    var tensor = new float[spec.ElementCount];
                    TensorPacker.Pack(MemoryMarshal.Cast<byte, Rgb24>(pixels.Span), spec, tensor);
                    return prepared with { Tensor = tensor };
                }

                return prepared;
            }
        }
        finally
        {
            _idle.Writer.TryWrite(slot);
        }
    }

    // One attempt on the slot's worker: the result with its resized RGB pixels, or a per-image error.
    private async Task<(PreparedImage Prepared, ReadOnlyMemory<byte>? Pixels)> DecodeOnceAsync(Slot slot, byte[] bytes, ImageFraming framing, bool keepOriented)
    {
        DecodeWorkerProcess worker;
        try
        {
            worker = await (slot.Starting ??= StartWorkerAsync());
            if (worker.HasExited)
            {
                Replace(slot, worker, "exited while idle");
                worker = await slot.Starting;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Try again to start on the next image rather than failing every image for good.
            slot.Starting = null;
            return (PreparedImage.Fail(ErrorCodes.DecoderCrashed, $"No decode worker could be started: {ex.Message}"), null);
        }

        int id = Interlocked.Increment(ref _nextRequestId);
        long started = Stopwatch.GetTimestamp();
        TimeSpan allowed = _options.DeadlineFor(bytes.Length);
        long limitBytes = _options.MemoryLimitBytes;
        // The oriented image, when asked for, is at most the pixel cap's worth of RGB.
        int maxResult = (int)Math.Min(int.MaxValue, (framing.Width * framing.Height * 3) + DecodeProtocol.MaxControlBytes + (keepOriented ? _preprocessing.MaxPixels * 3 : 0));
        Task<byte[]?> read;
        try
        {
            await DecodeProtocol.WriteDecodeRequestAsync(worker.Input, id, framing, bytes, keepOriented);
            read = DecodeProtocol.ReadFrameAsync(worker.Output, maxResult);
        }
        catch (IOException ex)
        {
            return await CrashedAsync(slot, worker, $"the worker's pipe broke ({ex.Message})");
        }

        while (true)
        {
            await Task.WhenAny(read, Task.Delay(_options.PollInterval));
            if (read.IsCompleted)
            {
                DecodeProtocol.WorkerMessage message;
                try
                {
                    byte[]? frame = await read;
                    if (frame is null)
                    {
                        return await CrashedAsync(slot, worker, "the worker exited");
                    }

                    message = DecodeProtocol.ReadWorkerMessage(frame);
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException or EndOfStreamException)
                {
                    return await CrashedAsync(slot, worker, $"the worker broke the protocol ({ex.Message})");
                }

                if (message.Id != id)
                {
                    return await CrashedAsync(slot, worker, $"the worker answered request {message.Id} instead of {id}");
                }

                if (message.Kind == DecodeMessage.Header)
                {
                    allowed = _options.DeadlineFor(bytes.Length, message.Prepared.Width, message.Prepared.Height);
                    read = DecodeProtocol.ReadFrameAsync(worker.Output, maxResult);
                    continue;
                }

                if (message.Prepared.Error?.Code == ErrorCodes.DecodeMemoryLimit)
                {
                    // The worker ran out of heap and leaves by itself.
                    Replace(slot, worker, "out of memory");
                    return (PreparedImage.Fail(ErrorCodes.DecodeMemoryLimit,
                        $"Decoding needed more than {_options.MemoryLimitMegabytes} MiB (the worker ran out of heap); the decoder was stopped."), null);
                }

                if (message.Prepared.Error is null && message.Pixels?.Length != framing.Width * framing.Height * 3)
                {
                    return await CrashedAsync(slot, worker, "the worker returned pixels of the wrong size");
                }

                // Answered: retire the worker now if it has done its share or kept too much memory.
                if (++worker.ImagesDecoded >= _options.RecycleAfter)
                {
                    Replace(slot, worker, "recycled", graceful: true);
                }
                else if (worker.ResidentBytes() - worker.BaselineBytes > (limitBytes - worker.BaselineBytes) / 2)
                {
                    Replace(slot, worker, "holding over half its memory headroom", graceful: true);
                }

                return (message.Prepared with { Oriented = message.Oriented }, message.Pixels);
            }

            TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > allowed)
            {
                Replace(slot, worker, "timeout");
                Observe(read);
                return (PreparedImage.Fail(ErrorCodes.DecodeTimeout, $"Decoding took longer than {allowed.TotalSeconds:0.##} s; the decoder was stopped."), null);
            }

            long resident = worker.ResidentBytes();
            if (resident > limitBytes)
            {
                Replace(slot, worker, "memory limit");
                Observe(read);
                return (PreparedImage.Fail(ErrorCodes.DecodeMemoryLimit,
                    $"Decoding needed more than {_options.MemoryLimitMegabytes} MiB ({resident / (1024 * 1024)} MiB resident); the decoder was stopped."), null);
            }
        }
    }

    // decoder_crashed is the one error tried again on a fresh worker.
    private async Task<(PreparedImage Prepared, ReadOnlyMemory<byte>? Pixels)> CrashedAsync(Slot slot, DecodeWorkerProcess worker, string what)
    {
        worker.Kill();
        string how = await worker.ExitDescriptionAsync();
        if (worker.KilledByMemoryCap)
        {
            Replace(slot, worker, "memory cap");
            return (PreparedImage.Fail(ErrorCodes.DecodeMemoryLimit,
                $"Decoding needed more than the kernel's memory cap for a worker ({_options.MemoryCapBytes / (1024 * 1024)} MiB); the kernel stopped the decoder."), null);
        }

        Replace(slot, worker, "crashed");
        return (PreparedImage.Fail(ErrorCodes.DecoderCrashed, $"The decode worker died on this image: {what} ({how})."), null);
    }

    // Stops the slot's worker and starts its replacement at once, so the next image rarely waits for a start.
    private void Replace(Slot slot, DecodeWorkerProcess worker, string reason, bool graceful = false)
    {
        LogReplacing(worker.ProcessId, reason, worker.ImagesDecoded);
        Interlocked.Increment(ref _restarts);
        _instruments.DecodeWorkerReplaced(reason);
        if (graceful)
        {
            _ = worker.RetireAsync().ContinueWith(_ => worker.Dispose(), TaskScheduler.Default);
        }
        else
        {
            worker.Kill();
            worker.Dispose();
        }

        slot.Starting = _stopping.IsCancellationRequested ? null : StartWorkerAsync();
        Observe(slot.Starting);
    }

    private Task<DecodeWorkerProcess> StartWorkerAsync() =>
        DecodeWorkerProcess.StartAsync(_options, _preprocessing, _logger, _stopping.Token);

    private static void Observe(Task? task) =>
        task?.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    // Idempotent: the container disposes this instance both as itself and as the IImagePreparer it hands out.
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        foreach (Slot slot in _slots)
        {
            if (slot.Starting is { } starting)
            {
                try
                {
                    using DecodeWorkerProcess worker = await starting;
                    worker.Kill();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // It never started.
                }
            }
        }

        _stopping.Dispose();
    }

    private sealed class Slot
    {
        /// <summary>The slot's worker: started, starting, or null when none has been asked for yet.</summary>
        public Task<DecodeWorkerProcess>? Starting { get; set; }
    }

    [LoggerMessage(EventId = 1310, Level = LogLevel.Information, Message = "Decode sandbox: {Workers} worker processes ({Decoder}), {TimeoutMs} ms deadline, {MemoryMb} MiB each")]
    private partial void LogPoolStarted(int workers, string decoder, double timeoutMs, int memoryMb);

    [LoggerMessage(EventId = 1313, Level = LogLevel.Information, Message = "Decode workers confined: {Confinement}")]
    private partial void LogConfined(string confinement);

    [LoggerMessage(EventId = 1314, Level = LogLevel.Warning, Message = "Decode workers only partly confined (this kernel offers less; ArtGrid:Preprocessing:Sandbox:Confinement=Required refuses to start so): {Confinement}")]
    private partial void LogPartlyConfined(string confinement);

    [LoggerMessage(EventId = 1315, Level = LogLevel.Warning, Message = "Decode workers unconfined (ArtGrid:Preprocessing:Sandbox:Confinement=Off): {Confinement}")]
    private partial void LogUnconfined(string confinement);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Warning, Message = "Replacing decode worker {ProcessId}: {Reason} (after {Images} images)")]
    private partial void LogReplacing(int processId, string reason, int images);

    [LoggerMessage(EventId = 1312, Level = LogLevel.Warning, Message = "A decode worker died; trying the image again on a fresh one: {Reason}")]
    private partial void LogRetryingAfterCrash(string reason);
}
