namespace ArtGrid.Hosting.Review;

/// <summary><c>POST /v1/reviews</c>: the reviewer's label for image <see cref="Image"/> of job <see cref="JobId"/>.</summary>
public sealed record ReviewRequest(string? JobId, int? Image, string? Label, string? Note);

/// <summary>
/// A reviewer's decision on one scored image: who, when, the reviewer's <see cref="Label"/> beside what the model said
/// (<see cref="ModelLabel"/>, the verdict; <see cref="ClassifierLabel"/> and <see cref="AiProbability"/>, the
/// classifier's), and whether the image's bytes are kept for the export. A later decision on the same item replaces it.
/// </summary>
public sealed record ReviewDecision
{
    public required string JobId { get; init; }

    public required int Image { get; init; }

    public required string Name { get; init; }

    public string? Sha256 { get; init; }

    /// <summary>The reviewer's label: "ai" or "human".</summary>
    public required string Label { get; init; }

    /// <summary>The name of the API key that recorded the decision.</summary>
    public required string Reviewer { get; init; }

    public required DateTimeOffset ReviewedAt { get; init; }

    public string? Note { get; init; }

    /// <summary>The verdict's label for the image: "ai", "human" or "uncertain".</summary>
    public string? ModelLabel { get; init; }

    public string? ClassifierLabel { get; init; }

    public double? AiProbability { get; init; }

    public required string Model { get; init; }

    /// <summary>The image's bytes are kept (by SHA-256) for the export.</summary>
    public bool ImageKept { get; init; }

    /// <summary>"confirmed" (the reviewer agrees with the verdict), "overturned" (disagrees), or "decided" (the verdict was uncertain).</summary>
    public string Outcome => ModelLabel == Labels.Uncertain || ModelLabel is null ? "decided" : ModelLabel == Label ? "confirmed" : "overturned";
}

/// <summary>One scored image of a review queue, with everything the console shows of it.</summary>
public sealed record ReviewItem(
    string Id,
    string JobId,
    int Image,
    string Name,
    string? Sha256,
    string? Label,
    double? AiProbability,
    string? ClassifierLabel,
    string Model,
    IReadOnlyList<Evidence> Evidence,
    IReadOnlyList<string> Reasons,
    bool Conflict,
    AuthorContext? Author,
    DateTimeOffset CompletedAt,
    ReviewDecision? Review);

/// <summary>A page of a queue, newest first; <see cref="Next"/> is the cursor of the next page (<c>before=</c>), null at the end.</summary>
public sealed record ReviewPage(string Filter, IReadOnlyList<ReviewItem> Items, string? Next);

/// <summary>How many images each review queue holds (entries whose job record expired are counted until they are listed).</summary>
public sealed record ReviewQueueCounts(long All, long Ai, long Uncertain, long Conflict);

/// <summary>
/// A binary confusion matrix on reviewed images, AI the positive class, the reviewer's label the truth; a prediction
/// other than "ai" (human or uncertain) counts as negative. Rates are null where undefined.
/// </summary>
public sealed record ReviewMetrics(int Reviewed, int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives, double? Precision, double? Recall, double? Accuracy)
{
    public static ReviewMetrics Of(IEnumerable<(string? Predicted, string Truth)> pairs)
    {
        int tp = 0, fp = 0, tn = 0, fn = 0;
        foreach ((string? predicted, string truth) in pairs)
        {
            bool flagged = predicted == Labels.Ai;
            bool ai = truth == Labels.Ai;
            (tp, fp, tn, fn) = (flagged, ai) switch
            {
                (true, true) => (tp + 1, fp, tn, fn),
                (true, false) => (tp, fp + 1, tn, fn),
                (false, false) => (tp, fp, tn + 1, fn),
                (false, true) => (tp, fp, tn, fn + 1),
            };
        }

        int n = tp + fp + tn + fn;
        return new ReviewMetrics(
            n, tp, fp, tn, fn,
            tp + fp == 0 ? null : (double)tp / (tp + fp),
            tp + fn == 0 ? null : (double)tp / (tp + fn),
            n == 0 ? null : (double)(tp + tn) / n);
    }
}

/// <summary>
/// <c>GET /v1/review/stats</c>: the queues, the decisions, and how the model did on the reviewed images: the classifier's
/// own label (<see cref="Model"/>) and the verdict (<see cref="Verdict"/>, which provenance evidence and declarations
/// may decide), each with "uncertain" counted as not flagged; <see cref="UncertainAi"/> and <see cref="UncertainHuman"/>
/// say what reviewers made of the verdicts that were uncertain.
/// </summary>
public sealed record ReviewStats(
    ReviewQueueCounts Queues,
    int Reviewed,
    int Confirmed,
    int Overturned,
    int UncertainAi,
    int UncertainHuman,
    ReviewMetrics Model,
    ReviewMetrics Verdict);

/// <summary>What <c>GET /v1/jobs/{id}/images/{index}/image</c> found: the bytes and their type, or why there are none.</summary>
public sealed record ImagePreview(byte[]? Bytes, string? ContentType, string? Problem, string? Detail)
{
    public const string JobNotFound = "job_not_found";
    public const string ImageNotFound = "image_not_found";
    public const string NoPreview = "preview_not_found";
    public const string Unsupported = "preview_unsupported";

    public static ImagePreview Refused(string problem, string detail) => new(null, null, problem, detail);
}
