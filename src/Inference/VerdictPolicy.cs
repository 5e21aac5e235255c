namespace ArtGrid.Inference;

/// <summary>Turns probabilities into labels with the model's uncertain band, and image scores into a job verdict.</summary>
public static class VerdictPolicy
{
    /// <summary><c>ai</c> at or above the band's top, <c>human</c> below its bottom, <c>uncertain</c> inside.</summary>
    public static string Label(double aiProbability, ModelConfig model)
    {
        UncertainBand band = model.Uncertain;
        if (aiProbability >= Math.Max(band.High, model.Threshold))
        {
            return Labels.Ai;
        }

        return aiProbability < Math.Min(band.Low, model.Threshold) ? Labels.Human : Labels.Uncertain;
    }

    /// <summary>
    /// Merges each image's classifier label with its provenance evidence and the job's metadata (see
    /// <see cref="MergeImage"/>), then the images into the job: a post is as AI as its most AI image, its probability is
    /// the highest classifier probability, and it is in conflict when the uploader declared it human but it is AI.
    /// </summary>
    public static JobVerdict Merge(
        string jobId,
        IReadOnlyList<ImageScore> images,
        JobMetadata metadata,
        VerdictOptions options,
        string modelId,
        DateTimeOffset now)
    {
        ImageScore[] merged = [.. images.Select(i => MergeImage(i, metadata, options))];
        double? top = merged.Where(i => i.AiProbability is not null).Select(i => i.AiProbability!.Value).DefaultIfEmpty(double.NaN).Max();
        if (top is double p && double.IsNaN(p))
        {
            top = null;
        }

        string? label = merged.Select(i => i.Label).Where(l => l is not null).OrderBy(Rank).FirstOrDefault();
        var reasons = new List<string>();
        foreach (ImageScore image in merged.Where(i => i.Label == label && i.Reasons is { Count: > 0 }))
        {
            reasons.AddRange(image.Reasons!.Select(r => merged.Length == 1 ? r : $"{image.Name}: {r}"));
        }

        bool conflict = metadata.DeclaredAi == false && label == Labels.Ai;
        // An array, not a collection expression: the verdict is kept in grain state, and Redis grain storage writes the
        // runtime type of an IReadOnlyList; the compiler's own list type for `[.. x]` is not one Orleans reads back.
        return new JobVerdict(jobId, label, top, modelId, merged, now, reasons.Distinct().ToArray(), conflict);

        static int Rank(string? l) => l switch { Labels.Ai => 0, Labels.Uncertain => 1, _ => 2 };
    }

    /// <summary>
    /// One image's verdict. Strong AI evidence decides (when <see cref="VerdictOptions.StrongEvidenceDecides"/>), then an
    /// uploader's AI declaration (<see cref="VerdictOptions.DeclaredAiDecides"/>), else the classifier's label stands.
    /// Weaker evidence and the classifier's score are listed as reasons; a human declaration contradicted by the
    /// verdict is flagged. An image that could not be read keeps no label. The only place an image's <see cref="ImageScore.Label"/> is set.
    /// <para>
    /// A C2PA claim decides only when it is verified (<see cref="C2paVerificationStates.Verified"/>: a valid signature,
    /// every hash matching the file and the claim, and a signer that chains to a configured trust anchor). Without a
    /// trust list, or from an unknown signer, a valid signature proves only that the file is as someone signed it, and
    /// anyone can sign with a certificate of their own making: such a claim is at most moderate (the provenance reader
    /// weighs it so), listed as a reason beside the classifier. A broken manifest (<c>c2pa-broken</c>: an invalid
    /// signature, a hash mismatch) is listed for itself and its claim is no evidence either way. Evidence from before
    /// verification (a cached score's "signature not verified" claim) is held to the same rule here.
    /// </para>
    /// </summary>
    public static ImageScore MergeImage(ImageScore image, JobMetadata metadata, VerdictOptions options)
    {
        if (image.Error is not null)
        {
            return image;
        }

        IReadOnlyList<Evidence> evidence = image.Evidence ?? [];
        // Strong AI evidence decides when the policy lets it; otherwise it is only listed, as context, below.
        Evidence[] decisive = options.StrongEvidenceDecides
            ? [.. evidence.Where(e => e.Indicates == EvidenceDirection.Ai && e.Strength == EvidenceStrength.Strong
                && (e.Signal != EvidenceSignals.C2pa || C2paVerificationStates.IsVerified(e)))]
            : [];
        var reasons = new List<string>();
        string? label = image.ClassifierLabel;
        if (decisive.Length > 0)
        {
            label = Labels.Ai;
            reasons.AddRange(decisive.Select(e => e.Detail));
        }

        else if (metadata.DeclaredAi == true && options.DeclaredAiDecides)
        {
            label = Labels.Ai;
            reasons.Add("declared AI by the uploader");
        }

        reasons.AddRange(evidence
            .Where(e => e.Signal != EvidenceSignals.Unreadable && !decisive.Contains(e))
            .Select(e => $"{e.Detail} ({e.Strength}, points to {e.Indicates})"));
        if (image.AiProbability is double probability)
        {
            reasons.Add($"classifier {probability:0.00} ({image.ClassifierLabel})");
        }

        // Which generator family it resembles means something only for an image that may be AI.
        if (image.Generator is { } generator && label != Labels.Human)
        {
            reasons.Add($"resembles {generator.Family} images ({generator.Probability:0.00} among the generator families the model knows)");
        }

        if (metadata.DeclaredAi == false && label == Labels.Ai)
        {
            reasons.Add("declared human by the uploader: conflict");
        }

        return image with { Label = label, Reasons = reasons };
    }
}
