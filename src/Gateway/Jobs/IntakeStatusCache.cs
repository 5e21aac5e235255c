using ArtGrid.GrainInterfaces;
using ArtGrid.Hosting.Gateway;
using Microsoft.Extensions.Options;

namespace ArtGrid.Gateway.Jobs;

/// <summary>
/// Whether the cluster takes work now (<see cref="IIntakeStatusGrain"/>), asked at most once per
/// <see cref="GatewayOptions.IntakeStatusCacheSeconds"/> however many callers ask: a gateway under load adds one grain
/// call a quarter second, not one per request.
/// </summary>
public sealed class IntakeStatusCache(IGrainFactory grains, IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly SemaphoreSlim _asking = new(1, 1);
    private IntakeStatus? _status;
    private long _askedAt;

    public async Task<IntakeStatus> GetAsync(CancellationToken cancellationToken)
    {
        TimeSpan lifetime = TimeSpan.FromSeconds(options.Value.IntakeStatusCacheSeconds);
        if (_status is { } known && time.GetElapsedTime(Volatile.Read(ref _askedAt)) < lifetime)
        {
            return known;
        }

        await _asking.WaitAsync(cancellationToken);
        try
        {
            if (_status is { } fresh && time.GetElapsedTime(Volatile.Read(ref _askedAt)) < lifetime)
            {
                return fresh;
            }

            IntakeStatus status = await grains.GetGrain<IIntakeStatusGrain>(0).GetAsync(cancellationToken);
            _status = status;
            Volatile.Write(ref _askedAt, time.GetTimestamp());
            return status;
        }
        finally
        {
            _asking.Release();
        }
    }
}
