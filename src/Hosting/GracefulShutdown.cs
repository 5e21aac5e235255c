using ArtGrid.Hosting.Messaging;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting;

/// <summary>
/// What a cluster silo does on SIGTERM, within <see cref="SiloOptions.ShutdownSeconds"/> (S, the host's
/// <c>ShutdownTimeout</c>). The bus stops before Orleans (it is registered after it): its "score-images" consumer is
/// cancelled on the broker at once, so no new delivery starts; deliveries prefetched but not started are left
/// unacknowledged and go back to the queue when the bus closes its channel. Jobs already in a consumer have S/2 to finish
/// (MassTransit's <c>ConsumerStopTimeout</c>); then their <c>ConsumeContext.CancellationToken</c> is cancelled, they throw
/// <see cref="OperationCanceledException"/>, which MassTransit neither retries nor moves to "_error", and their messages go
/// back to the queue unacknowledged. At 3S/4 the bus stops waiting (<c>MassTransitHostOptions.StopTimeout</c>) and closes
/// its channel whatever is left. Orleans then has the last quarter to leave the cluster (it marks itself dead in the
/// membership table, so that the others stop sending to it without waiting for probes) and deactivate its grains; a job
/// whose grain lived here is answered by a new activation on the silo that takes it next.
/// </summary>
public static class GracefulShutdown
{
    /// <summary>The drain's budget and its two log lines ("draining: ...", "drained in ...").</summary>
    public static IServiceCollection AddArtGridGracefulShutdown(this IServiceCollection services, SiloOptions silo)
    {
        TimeSpan budget = TimeSpan.FromSeconds(silo.ShutdownSeconds);
        services.Configure<HostOptions>(o => o.ShutdownTimeout = budget);
        services.AddOptions<MassTransitHostOptions>().Configure(o =>
        {
            o.ConsumerStopTimeout = budget / 2;
            o.StopTimeout = budget * 3 / 4;
        });
        services.AddSingleton<DrainMonitor>();
        services.AddReceiveObserver(sp => sp.GetRequiredService<DrainMonitor>());
        services.AddBusObserver(sp => sp.GetRequiredService<DrainMonitor>());
        services.AddHostedService(sp => sp.GetRequiredService<DrainMonitor>());
        return services;
    }
}

/// <summary>
/// Counts the jobs in this silo's consumers (the "score-images" endpoint only), and once the host is stopping, how they
/// end: settled here (a verdict, a rejection, or the error queue: acknowledged) or handed back (failed on the drain's
/// cancellation: not acknowledged, so the broker delivers them again elsewhere).
/// </summary>
internal sealed partial class DrainMonitor(
    IHostApplicationLifetime lifetime,
    IOptions<BusOptions> bus,
    TimeProvider time,
    ILogger<DrainMonitor> logger) : IHostedService, IReceiveObserver, IBusObserver
{
    private int _inFlight;
    private int _finished;
    private int _handedBack;
    private int _startedLate;
    private long _busStopping;
    private long _drainStarted;
    private int _draining;
    private int _reported;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // ApplicationStopping fires on SIGTERM, before any hosted service is stopped.
        lifetime.ApplicationStopping.Register(OnStopping);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void OnStopping()
    {
        Volatile.Write(ref _drainStarted, time.GetTimestamp());
        Volatile.Write(ref _draining, 1);
        LogDraining(Volatile.Read(ref _inFlight), bus.Value.PrefetchCount);
    }

    public Task PreReceive(ReceiveContext context)
    {
        if (IsJobQueue(context))
        {
            Interlocked.Increment(ref _inFlight);
            if (Volatile.Read(ref _draining) == 1)
            {
                Interlocked.Increment(ref _startedLate);
            }
        }

        return Task.CompletedTask;
    }

    public Task PostReceive(ReceiveContext context)
    {
        Settled(context, ref _finished);
        return Task.CompletedTask;
    }

    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        Settled(context, ref _handedBack);
        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class => Task.CompletedTask;

    public void PostCreate(IBus bus)
    {
    }

    public void CreateFaulted(Exception exception)
    {
    }

    public Task PreStart(IBus bus) => Task.CompletedTask;

    public Task PostStart(IBus bus, Task<BusReady> busReady) => Task.CompletedTask;

    public Task StartFaulted(IBus bus, Exception exception) => Task.CompletedTask;

    public Task PreStop(IBus bus)
    {
        Volatile.Write(ref _busStopping, time.GetTimestamp());
        return Task.CompletedTask;
    }

    public Task PostStop(IBus bus)
    {
        Report();
        return Task.CompletedTask;
    }

    public Task StopFaulted(IBus bus, Exception exception)
    {
        Report();
        return Task.CompletedTask;
    }

    private void Settled(ReceiveContext context, ref int outcome)
    {
        if (!IsJobQueue(context))
        {
            return;
        }

        Interlocked.Decrement(ref _inFlight);
        if (Volatile.Read(ref _draining) == 1)
        {
            Interlocked.Increment(ref outcome);
        }
    }

    private void Report()
    {
        // The bus also stops when the host fails to start; only a drain has anything to say.
        if (Volatile.Read(ref _draining) == 0 || Interlocked.Exchange(ref _reported, 1) == 1)
        {
            return;
        }

        LogDrained(
            time.GetElapsedTime(Volatile.Read(ref _drainStarted)).TotalSeconds,
            Volatile.Read(ref _finished),
            Volatile.Read(ref _handedBack),
            Volatile.Read(ref _inFlight),
            time.GetElapsedTime(Volatile.Read(ref _drainStarted), Volatile.Read(ref _busStopping)).TotalSeconds,
            Volatile.Read(ref _startedLate));
    }

    private bool IsJobQueue(ReceiveContext context) =>
        context.InputAddress.Segments is [.., string last] && string.Equals(last.TrimEnd('/'), bus.Value.QueueName, StringComparison.Ordinal);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information,
        Message = "draining: {InFlight} jobs in flight (the broker may hold up to {Prefetch} for this silo); no new delivery starts")]
    private partial void LogDraining(int inFlight, int prefetch);

    [LoggerMessage(EventId = 111, Level = LogLevel.Information,
        Message = "drained in {Seconds:0.0} s: {Finished} finished, {HandedBack} handed back ({Left} still running when the bus closed its channel); deliveries not yet started went back to the queue; bus stopping after {BusStopping:0.0} s, {Late} started after SIGTERM")]
    private partial void LogDrained(double seconds, int finished, int handedBack, int left, double busStopping, int late);
}
