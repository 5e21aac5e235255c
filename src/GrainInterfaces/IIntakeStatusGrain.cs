namespace ArtGrid.GrainInterfaces;

/// <summary>
/// Whether the cluster takes new work now, as the silo that answers sees it (a stateless worker: any silo, since each
/// one's intake gate looks at every device it can send to). A gateway asks before it accepts a latency-sensitive job,
/// so that a saturated cluster answers 503 at once instead of holding the caller.
/// </summary>
public interface IIntakeStatusGrain : IGrainWithIntegerKey
{
    Task<IntakeStatus> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>Intake is <see cref="Closed"/> while every device holds its pause mark of full batches; try again after <see cref="RetryAfter"/>.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.IntakeStatus")]
public sealed record IntakeStatus(
    [property: Id(0)] bool Closed,
    [property: Id(1)] TimeSpan RetryAfter);
