using MassTransit;

namespace ArtGrid.Contracts;

/// <summary>Event: a job completed; published once per job, whatever the number of deliveries of its command.</summary>
public sealed record ImagesScored
{
    public required string JobId { get; init; }

    public required JobVerdict Verdict { get; init; }
}
