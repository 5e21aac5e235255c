namespace ArtGrid.Inference;

/// <summary>How evidence and declarations weigh against the classifier ("ArtGrid:Verdict").</summary>
public sealed class VerdictOptions
{
    public const string SectionName = "ArtGrid:Verdict";

    /// <summary>
    /// Strong provenance (a generator's own settings in the file, a C2PA or IPTC AI digital source type) makes the image
    /// "ai" whatever the classifier says. On by default: a generator rarely writes its settings into a human's work,
    /// and the classifier is wrong far more often.
    /// </summary>
    public bool StrongEvidenceDecides { get; set; } = true;

    /// <summary>An uploader who declares a job AI-made is believed. On by default.</summary>
    public bool DeclaredAiDecides { get; set; } = true;
}
