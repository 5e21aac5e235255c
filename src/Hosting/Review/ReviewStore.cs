using System.Buffers.Text;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using MassTransit;
using StackExchange.Redis;

namespace ArtGrid.Hosting.Review;

/// <summary>
/// The reviewer's console over Redis: the review queues the silos fill (<see cref="ReviewKeys"/>) listed with their
/// job records, the original image of a scored job from its claim check, reviewers' decisions (the latest per item
/// wins; at most <paramref name="maxReviews"/> decisions and kept images, the oldest dropped first), the model's
/// precision and recall on them, and the export of the reviewed images as a labelled data set.
/// </summary>
public sealed class ReviewStore(RedisConnection redis, RedisJobRecords records, IMessageDataRepository claimCheck, TimeProvider time, int maxReviews = ReviewStore.DefaultMaxReviews)
{
    public const int DefaultMaxReviews = 10_000;
    public const int MaxPageSize = 200;
    public const int MaxNoteLength = 2000;

    /// <summary>The export's labels file, and the folder its images are in (the file column is relative to it).</summary>
    public const string LabelsFile = "labels.csv";
    public const string ImagesFolder = "images";

    public static readonly IReadOnlyList<string> ExportColumns =
        ["file", "label", "model_label", "classifier_label", "ai_probability", "model", "reviewer", "reviewed_at", "job_id", "image", "name"];

    private static readonly JsonSerializerOptions Json = RedisJobRecords.Json;

    // Drops the oldest decisions past ARGV[1] (and their hash entries), then the oldest kept images past it (and their bytes).
    private const string TrimScript = """
        local max = tonumber(ARGV[1])
        local n = redis.call('ZCARD', KEYS[1])
        if n > max then
          local old = redis.call('ZRANGE', KEYS[1], 0, n - max - 1)
          for _, item in ipairs(old) do redis.call('HDEL', KEYS[2], item) end
          redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1)
        end
        n = redis.call('ZCARD', KEYS[3])
        if n > max then
          local old = redis.call('ZRANGE', KEYS[3], 0, n - max - 1)
          for _, sha in ipairs(old) do redis.call('DEL', ARGV[2] .. sha) end
          redis.call('ZREMRANGEBYRANK', KEYS[3], 0, n - max - 1)
        end
        return 0
        """;

    /// <summary>
    /// A page of queue <paramref name="filter"/>, newest first, from <paramref name="before"/> (a cursor of an earlier
    /// page) on; <paramref name="reviewed"/> keeps only reviewed (true) or unreviewed (false) images. Entries whose job
    /// record expired are dropped from every queue as they are met.
    /// </summary>
    public async Task<ReviewPage> ListAsync(string filter, bool? reviewed, int limit, string? before)
    {
        IDatabase db = await redis.GetDatabaseAsync();
        string key = ReviewKeys.Queue(filter);
        (double maxScore, string? afterMember) = before is null ? (double.PositiveInfinity, null) : ParseCursor(before);
        var items = new List<ReviewItem>(limit);
        string? next = null;
        bool exhausted = false;
        for (int round = 0; round < 20 && items.Count < limit && !exhausted; round++)
        {
            // Images of one job share a score: fetch past them, and skip what an earlier page (or round) returned.
            int take = (limit - items.Count) + 64;
            SortedSetEntry[] entries = await db.SortedSetRangeByScoreWithScoresAsync(key, double.NegativeInfinity, maxScore, Exclude.None, Order.Descending, 0, take);
            exhausted = entries.Length < take;
            SortedSetEntry[] fresh = [.. entries.Where(e => afterMember is null || e.Score < maxScore || string.CompareOrdinal(e.Element!, afterMember) < 0)];
            if (fresh.Length == 0)
            {
                break;
            }

            var parsed = fresh.Select(e => (Entry: e, Ok: ReviewKeys.TryParseItem(e.Element!, out string jobId, out int index), JobId: jobId, Index: index)).ToArray();
            string[] jobIds = [.. parsed.Where(p => p.Ok).Select(p => p.JobId).Distinct(StringComparer.Ordinal)];
            RedisValue[] recordValues = await db.StringGetAsync([.. jobIds.Select(id => (RedisKey)JobRecord.RedisKey(id))]);
            var found = new Dictionary<string, JobVerdict?>(StringComparer.Ordinal);
            for (int i = 0; i < jobIds.Length; i++)
            {
                if (recordValues[i].HasValue)
                {
                    found[jobIds[i]] = JsonSerializer.Deserialize<JobRecord>((string)recordValues[i]!, Json)?.Verdict;
                }
            }

            RedisValue[] decisionValues = await db.HashGetAsync(ReviewKeys.Decisions, [.. fresh.Select(e => e.Element)]);
            var expired = new List<RedisValue>();
            for (int i = 0; i < parsed.Length && items.Count < limit; i++)
            {
                (SortedSetEntry entry, bool ok, string jobId, int index) = parsed[i];
                (maxScore, afterMember) = (entry.Score, entry.Element!);
                if (!ok || !found.TryGetValue(jobId, out JobVerdict? verdict))
                {
                    expired.Add(entry.Element);
                    continue;
                }

                if (verdict?.Images.FirstOrDefault(im => im.Index == index) is not { } image)
                {
                    continue;
                }

                ReviewDecision? decision = decisionValues[i].IsNull ? null : JsonSerializer.Deserialize<ReviewDecision>((string)decisionValues[i]!, Json);
                if (reviewed is { } wanted && wanted != (decision is not null))
                {
                    continue;
                }

                items.Add(new ReviewItem(
                    entry.Element!, jobId, index, image.Name, image.Sha256, image.Label, image.AiProbability, image.ClassifierLabel, image.Model,
                    image.Evidence ?? [], image.Reasons ?? [], verdict.Conflict && image.Label == Labels.Ai, verdict.Author, verdict.CompletedAt, decision));
            }

            if (expired.Count > 0)
            {
                ITransaction drop = db.CreateTransaction();
                foreach (string queue in ReviewKeys.Filters)
                {
                    _ = drop.SortedSetRemoveAsync(ReviewKeys.Queue(queue), [.. expired]);
                }

                await drop.ExecuteAsync();
            }

        }

        // A full page may have more after it: its last item is the next page's cursor.
        if (items.Count == limit)
        {
            next = Cursor(maxScore, afterMember!);
        }

        return new ReviewPage(filter, items, next);
    }

    /// <summary>The original bytes of image <paramref name="index"/> of a job (from its claim check, else the copy kept when it was reviewed), with their sniffed type.</summary>
    public async Task<ImagePreview> GetImageAsync(string jobId, int index)
    {
        if (await records.GetAsync(jobId) is not { } record)
        {
            return ImagePreview.Refused(ImagePreview.JobNotFound, $"No job '{jobId}' is on record.");
        }

        ImageScore? scored = record.Verdict?.Images.FirstOrDefault(i => i.Index == index);
        if (index < 0 || (record.Verdict is { } verdict && scored is null))
        {
            return ImagePreview.Refused(ImagePreview.ImageNotFound, $"Job '{jobId}' has no image {index}.");
        }

        byte[]? bytes = await ReadClaimCheckAsync(jobId, index);
        if (bytes is null && scored?.Sha256 is { } sha)
        {
            IDatabase db = await redis.GetDatabaseAsync();
            RedisValue kept = await db.StringGetAsync(ReviewKeys.KeptImage(sha));
            bytes = kept.IsNull ? null : (byte[])kept!;
        }

        if (bytes is null)
        {
            return ImagePreview.Refused(
                ImagePreview.NoPreview,
                $"No preview of image {index} of job '{jobId}': images sent by URL or key have none, and uploaded bytes are kept only as long as the claim check ({"ArtGrid:Bus:MessageDataHours"}) unless the image was reviewed.");
        }

        return ImageSniffer.ContentType(bytes) is { } type
            ? new ImagePreview(bytes, type, null, null)
            : ImagePreview.Refused(ImagePreview.Unsupported, $"Image {index} of job '{jobId}' is not a PNG, JPEG, GIF, WebP or BMP file: it is not shown.");
    }

    /// <summary>
    /// Records <paramref name="reviewer"/>'s decision on a scored image, replacing any earlier one on it, and keeps a
    /// copy of the image's bytes (when the claim check still has them and they hash to the verdict's SHA-256).
    /// Null and a reason when the item cannot be reviewed.
    /// </summary>
    public async Task<(ReviewDecision? Decision, string? Problem, string? Detail)> RecordAsync(string jobId, int index, string label, string? note, string reviewer)
    {
        if (await records.GetAsync(jobId) is not { } record)
        {
            return (null, ImagePreview.JobNotFound, $"No job '{jobId}' is on record.");
        }

        if (record.Verdict is not { } verdict || verdict.Images.FirstOrDefault(i => i.Index == index) is not { Succeeded: true } image)
        {
            return (null, ImagePreview.ImageNotFound, record.Verdict is null
                ? $"Job '{jobId}' is {record.Status}: it has no scored images."
                : $"Job '{jobId}' has no scored image {index}.");
        }

        byte[]? bytes = await ReadClaimCheckAsync(jobId, index);
        bool keep = bytes is not null && image.Sha256 is { } sha && ContentHash.Of(bytes) == sha.ToLowerInvariant();
        IDatabase db = await redis.GetDatabaseAsync();
        bool alreadyKept = !keep && image.Sha256 is not null && await db.KeyExistsAsync(ReviewKeys.KeptImage(image.Sha256));
        DateTimeOffset now = time.GetUtcNow();
        var decision = new ReviewDecision
        {
            JobId = jobId,
            Image = index,
            Name = image.Name,
            Sha256 = image.Sha256,
            Label = label,
            Reviewer = reviewer,
            ReviewedAt = now,
            Note = string.IsNullOrWhiteSpace(note) ? null : note.Trim(),
            ModelLabel = image.Label,
            ClassifierLabel = image.ClassifierLabel,
            AiProbability = image.AiProbability,
            Model = image.Model,
            ImageKept = keep || alreadyKept,
        };
        string item = ReviewKeys.Item(jobId, index);
        ITransaction write = db.CreateTransaction();
        _ = write.HashSetAsync(ReviewKeys.Decisions, item, JsonSerializer.Serialize(decision, Json));
        _ = write.SortedSetAddAsync(ReviewKeys.Decided, item, now.ToUnixTimeMilliseconds());
        if (keep)
        {
            _ = write.StringSetAsync(ReviewKeys.KeptImage(image.Sha256!), bytes);
        }

        if (decision.ImageKept)
        {
            _ = write.SortedSetAddAsync(ReviewKeys.KeptImages, image.Sha256!, now.ToUnixTimeMilliseconds());
        }

        _ = write.ScriptEvaluateAsync(TrimScript, [ReviewKeys.Decided, ReviewKeys.Decisions, ReviewKeys.KeptImages], [maxReviews, ReviewKeys.KeptImage("")]);
        await write.ExecuteAsync();
        return (decision, null, null);
    }

    /// <summary>Every decision kept, newest first.</summary>
    public async Task<IReadOnlyList<ReviewDecision>> DecisionsAsync()
    {
        IDatabase db = await redis.GetDatabaseAsync();
        HashEntry[] all = await db.HashGetAllAsync(ReviewKeys.Decisions);
        return [.. all.Select(e => JsonSerializer.Deserialize<ReviewDecision>((string)e.Value!, Json)!).OrderByDescending(d => d.ReviewedAt)];
    }

    public async Task<ReviewStats> StatsAsync()
    {
        IDatabase db = await redis.GetDatabaseAsync();
        Task<long>[] counts = [.. new[] { ReviewKeys.All, ReviewKeys.Ai, ReviewKeys.Uncertain, ReviewKeys.Conflict }.Select(f => db.SortedSetLengthAsync(ReviewKeys.Queue(f)))];
        IReadOnlyList<ReviewDecision> decisions = await DecisionsAsync();
        await Task.WhenAll(counts);
        return new ReviewStats(
            new ReviewQueueCounts(counts[0].Result, counts[1].Result, counts[2].Result, counts[3].Result),
            decisions.Count,
            decisions.Count(d => d.Outcome == "confirmed"),
            decisions.Count(d => d.Outcome == "overturned"),
            decisions.Count(d => d.ModelLabel == Labels.Uncertain && d.Label == Labels.Ai),
            decisions.Count(d => d.ModelLabel == Labels.Uncertain && d.Label == Labels.Human),
            ReviewMetrics.Of(decisions.Select(d => (d.ClassifierLabel ?? d.ModelLabel, d.Label))),
            ReviewMetrics.Of(decisions.Select(d => (d.ModelLabel, d.Label))));
    }

    /// <summary>
    /// Writes the reviewed images as a zip of <see cref="LabelsFile"/> and <see cref="ImagesFolder"/>/, the data set
    /// format of <c>artgrid train</c> and <c>artgrid eval</c> (the file column relative to the images folder). One row
    /// per image (by SHA-256: the latest decision on it wins); decisions whose image is no longer kept are left out.
    /// Returns the rows written and the reviewed images left out for want of their bytes.
    /// </summary>
    public async Task<(int Rows, int LeftOut)> ExportAsync(Stream zip, CancellationToken cancellationToken)
    {
        IReadOnlyList<ReviewDecision> decisions = await DecisionsAsync();
        ReviewDecision[] latest = [.. decisions.Where(d => d.Sha256 is not null).GroupBy(d => d.Sha256!, StringComparer.OrdinalIgnoreCase).Select(g => g.First())];
        IDatabase db = await redis.GetDatabaseAsync();
        var csv = new StringBuilder(string.Join(',', ExportColumns)).Append('\n');
        int rows = 0;
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (ReviewDecision decision in latest)
            {
                cancellationToken.ThrowIfCancellationRequested();
                RedisValue kept = await db.StringGetAsync(ReviewKeys.KeptImage(decision.Sha256!));
                if (kept.IsNull || ImageSniffer.ContentType((byte[])kept!) is not { } type)
                {
                    continue;
                }

                string file = decision.Sha256!.ToLowerInvariant() + ImageSniffer.Extension(type);
                ZipArchiveEntry entry = archive.CreateEntry($"{ImagesFolder}/{file}", CompressionLevel.NoCompression);
                await using (Stream stream = entry.Open())
                {
                    await stream.WriteAsync((byte[])kept!, cancellationToken);
                }

                csv.AppendJoin(',', new[]
                {
                    file, decision.Label, decision.ModelLabel ?? "", decision.ClassifierLabel ?? "",
                    decision.AiProbability?.ToString("0.######", CultureInfo.InvariantCulture) ?? "", decision.Model, decision.Reviewer,
                    decision.ReviewedAt.ToString("O", CultureInfo.InvariantCulture), decision.JobId,
                    decision.Image.ToString(CultureInfo.InvariantCulture), decision.Name,
                }.Select(CsvField)).Append('\n');
                rows++;
            }

            ZipArchiveEntry labels = archive.CreateEntry(LabelsFile, CompressionLevel.Optimal);
            await using Stream labelsStream = labels.Open();
            await labelsStream.WriteAsync(Encoding.UTF8.GetBytes(csv.ToString()), cancellationToken);
        }

        return (rows, latest.Length - rows);
    }

    /// <summary>
    /// One CSV field as <c>LabelsCsv</c> reads it: quoted (doubling quotes) when it holds a comma or a quote; line breaks
    /// and other control characters, which a one-line-per-row reader cannot take, become spaces.
    /// </summary>
    public static string CsvField(string value)
    {
        string flat = new([.. value.Select(c => char.IsControl(c) ? ' ' : c)]);
        return flat.Contains(',') || flat.Contains('"') ? "\"" + flat.Replace("\"", "\"\"") + "\"" : flat;
    }

    private async Task<byte[]?> ReadClaimCheckAsync(string jobId, int index)
    {
        if (await records.GetImageAddressAsync(jobId, index) is not { } address)
        {
            return null;
        }

        try
        {
            await using Stream stream = await claimCheck.Get(address);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            return buffer.ToArray();
        }
        catch (MessageDataNotFoundException)
        {
            return null;
        }
    }

    private static string Cursor(double score, string member) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(score.ToString("R", CultureInfo.InvariantCulture) + "\n" + member));

    /// <exception cref="FormatException">Not a cursor of <see cref="ListAsync"/>.</exception>
    public static (double Score, string Member) ParseCursor(string cursor)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            throw new FormatException("before is not a cursor this gateway gave.");
        }

        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline > 0 && double.TryParse(text.AsSpan(0, newline), NumberStyles.Float, CultureInfo.InvariantCulture, out double score)
            ? (score, text[(newline + 1)..])
            : throw new FormatException("before is not a cursor this gateway gave.");
    }
}
