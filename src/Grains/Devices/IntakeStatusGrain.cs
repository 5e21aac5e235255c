using ArtGrid.GrainInterfaces;
using Orleans.Concurrency;

namespace ArtGrid.Grains.Devices;

/// <summary>Answers with this silo's <see cref="IntakeGate"/>: a stateless worker, so the silo that receives the call.</summary>
[StatelessWorker]
public sealed class IntakeStatusGrain(IntakeGate gate) : Grain, IIntakeStatusGrain
{
    /// <summary>What a closed intake asks callers to wait: the gate looks again every 10 ms, but a saturated cluster drains in about a second.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    public Task<IntakeStatus> GetAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new IntakeStatus(gate.Closed, RetryAfter));
}
