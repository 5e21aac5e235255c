using ArtGrid.GrainInterfaces;
using Microsoft.Extensions.Logging;

namespace ArtGrid.Grains;

/// <summary>
/// Scores a share of a large job (<see cref="IImageShareGrain"/>) with this silo's <see cref="ImageScorer"/>: its
/// decode workers, and the devices its router picks. Placed by <see cref="SharePlacement"/>, so that a job's shares
/// spread over the silos; deactivated as soon as it has answered.
/// </summary>
[SharePlacement]
public sealed partial class ImageShareGrain(ImageScorer scorer, ILocalSiloDetails silo, ILogger<ImageShareGrain> logger) : Grain, IImageShareGrain
{
    public async Task<ImageScore[]> ScoreAsync(ImageShare share, CancellationToken cancellationToken = default)
    {
        try
        {
            ImageScore[] scores = await Task.WhenAll(share.Images.Select((image, i) => scorer.ScoreAsync(share.FirstIndex + i, image, share.ModelId, cancellationToken)));
            LogScored(this.GetPrimaryKeyString(), share.FirstIndex, share.FirstIndex + share.Images.Count - 1, silo.Name);
            return scores;
        }
        finally
        {
            DeactivateOnIdle();
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Share {Share}: images {First}-{Last} scored on {Silo}")]
    private partial void LogScored(string share, int first, int last, string silo);
}
