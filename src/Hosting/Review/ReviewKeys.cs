using StackExchange.Redis;

namespace ArtGrid.Hosting.Review;

/// <summary>
/// Where the reviewer's console keeps its state in Redis. The review queues are sorted sets of scored images (member
/// "{jobId}/{index}", score the job's completion time in Unix milliseconds), written by the silos with each verdict:
/// every scored image, and apart the ones labelled <c>ai</c>, <c>uncertain</c>, and <c>conflict</c> (labelled <c>ai</c> in a
/// job whose uploader declared it human-made). Decisions are a hash of item to JSON; the reviewed images' bytes are
/// kept by SHA-256 with no expiry (bounded by count), so that an export outlives the claim check.
/// </summary>
public static class ReviewKeys
{
    public const string All = "all";
    public const string Ai = "ai";
    public const string Uncertain = "uncertain";
    public const string Conflict = "conflict";

    /// <summary>The filters a queue can be listed by, each its own sorted set.</summary>
    public static readonly IReadOnlyList<string> Filters = [Uncertain, Conflict, Ai, All];

    /// <summary>Decisions: a hash of item ("{jobId}/{index}") to <see cref="ReviewDecision"/> as JSON.</summary>
    public const string Decisions = "artgrid:review:decisions";

    /// <summary>Decided items by when they were decided (Unix ms): bounds the decisions kept.</summary>
    public const string Decided = "artgrid:review:decided";

    /// <summary>Kept images by when they were last reviewed (Unix ms): bounds the images kept.</summary>
    public const string KeptImages = "artgrid:review:images";

    public static string Queue(string filter) => $"artgrid:review:queue:{filter}";

    public static string KeptImage(string sha256) => $"artgrid:review:image:{sha256}";

    public static string Item(string jobId, int index) => $"{jobId}/{index}";

    /// <summary>Splits an item id at its last '/': job ids may hold '/', indexes never do.</summary>
    public static bool TryParseItem(string item, out string jobId, out int index)
    {
        int slash = item.LastIndexOf('/');
        jobId = slash > 0 ? item[..slash] : "";
        return int.TryParse(item.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index) && slash > 0;
    }

    /// <summary>The queues an image of <paramref name="verdict"/> belongs to; none for an image that failed.</summary>
    public static IEnumerable<string> QueuesOf(JobVerdict verdict, ImageScore image)
    {
        if (!image.Succeeded || image.Label is null)
        {
            yield break;
        }

        yield return All;
        if (image.Label == Labels.Ai)
        {
            yield return Ai;
            if (verdict.Conflict)
            {
                yield return Conflict;
            }
        }
        else if (image.Label == Labels.Uncertain)
        {
            yield return Uncertain;
        }
    }

    /// <summary>Adds the scored images of <paramref name="verdict"/> to their queues in <paramref name="write"/>, and trims each queue it touched to its newest <paramref name="length"/>.</summary>
    public static void Enqueue(ITransaction write, JobVerdict verdict, int length)
    {
        double score = verdict.CompletedAt.ToUnixTimeMilliseconds();
        var touched = new HashSet<string>(StringComparer.Ordinal);
        foreach (ImageScore image in verdict.Images)
        {
            foreach (string queue in QueuesOf(verdict, image))
            {
                _ = write.SortedSetAddAsync(Queue(queue), Item(verdict.JobId, image.Index), score);
                touched.Add(queue);
            }
        }

        foreach (string queue in touched)
        {
            _ = write.SortedSetRemoveRangeByRankAsync(Queue(queue), 0, -(length + 1L));
        }
    }
}
