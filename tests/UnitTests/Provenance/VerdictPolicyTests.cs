using ArtGrid.Inference;

namespace ArtGrid.Tests.Provenance;

/// <summary>The verdict policy: how evidence, declarations and the classifier combine.</summary>
public sealed class VerdictPolicyTests
{
    private static readonly Evidence StrongAi = new(EvidenceSignals.C2pa, EvidenceStrength.Strong, "C2PA: digitalSourceType trainedAlgorithmicMedia by G (verification: verified)", EvidenceDirection.Ai);
    private static readonly Evidence CameraC2pa = new(EvidenceSignals.C2pa, EvidenceStrength.Moderate, "C2PA: digitalSourceType digitalCapture by Cam", EvidenceDirection.Human);

    [Theory]
    // evidence, declared AI, classifier label -> merged label, conflict reason expected
    [InlineData("strong-ai", null, Labels.Human, Labels.Ai, false)]
    [InlineData("none", true, Labels.Human, Labels.Ai, false)]
    [InlineData("none", false, Labels.Ai, Labels.Ai, true)]
    [InlineData("strong-ai", false, Labels.Human, Labels.Ai, true)]
    [InlineData("camera", null, Labels.Ai, Labels.Ai, false)]
    [InlineData("none", null, Labels.Uncertain, Labels.Uncertain, false)]
    [InlineData("none", false, Labels.Human, Labels.Human, false)]
    public void ImageVerdicts(string evidence, bool? declaredAi, string classifierLabel, string expected, bool conflict)
    {
        Evidence[] found = evidence switch { "strong-ai" => [StrongAi], "camera" => [CameraC2pa], _ => [] };
        var image = new ImageScore(0, "x.png", "00", null, 0.3, "m/1", null, false, null, found) { ClassifierLabel = classifierLabel };

        ImageScore merged = VerdictPolicy.MergeImage(image, new JobMetadata(DeclaredAi: declaredAi), new VerdictOptions());

        Assert.Equal(expected, merged.Label);
        Assert.Equal(0.3, merged.AiProbability); // the classifier's probability is never rewritten
        Assert.Contains("classifier 0.30 (" + classifierLabel + ")", merged.Reasons!);
        Assert.Equal(conflict, merged.Reasons!.Contains("declared human by the uploader: conflict"));
        if (evidence == "strong-ai")
        {
            Assert.Equal(StrongAi.Detail, merged.Reasons![0]);
        }
    }

    [Theory]
    [InlineData(Labels.Ai, true)]
    [InlineData(Labels.Uncertain, true)]
    [InlineData(Labels.Human, false)]
    public void TheGeneratorFamilyIsAReasonForImagesThatMayBeAiAndNeverChangesTheLabel(string classifierLabel, bool listed)
    {
        var image = new ImageScore(0, "x.png", "00", null, 0.7, "m/1", null, false, null, []) { ClassifierLabel = classifierLabel, Generator = new GeneratorGuess("midjourney", 0.62) };

        ImageScore merged = VerdictPolicy.MergeImage(image, new JobMetadata(), new VerdictOptions());

        Assert.Equal(classifierLabel, merged.Label);
        Assert.Equal(listed, merged.Reasons!.Contains("resembles midjourney images (0.62 among the generator families the model knows)"));
    }

    [Theory]
    // A strong C2PA AI claim decides only when verified; other strong evidence (a generator's own settings) as before.
    [InlineData(EvidenceSignals.C2pa, "C2PA: digitalSourceType trainedAlgorithmicMedia by G (verification: verified)", Labels.Ai)]
    [InlineData(EvidenceSignals.C2pa, "C2PA: digitalSourceType trainedAlgorithmicMedia by G (verification: unverified (trust list not configured))", Labels.Human)]
    [InlineData(EvidenceSignals.C2pa, "C2PA: digitalSourceType trainedAlgorithmicMedia by G (signature not verified)", Labels.Human)]
    [InlineData(EvidenceSignals.A1111Parameters, "PNG text 'parameters': Steps: 20, Sampler: Euler a", Labels.Ai)]
    public void OnlyAVerifiedC2paClaimDecides(string signal, string detail, string expected)
    {
        var evidence = new Evidence(signal, EvidenceStrength.Strong, detail, EvidenceDirection.Ai);
        var image = new ImageScore(0, "x.png", "00", null, 0.1, "m/1", null, false, null, [evidence]) { ClassifierLabel = Labels.Human };

        ImageScore merged = VerdictPolicy.MergeImage(image, new JobMetadata(), new VerdictOptions());

        Assert.Equal(expected, merged.Label);
        Assert.Contains(merged.Reasons!, r => r.StartsWith(detail, StringComparison.Ordinal));
    }

    [Fact]
    public void ThePolicyCanLeaveTheLabelToTheClassifier()
    {
        var image = new ImageScore(0, "x.png", "00", null, 0.1, "m/1", null, false, null, [StrongAi]) { ClassifierLabel = Labels.Human };
        var options = new VerdictOptions { StrongEvidenceDecides = false, DeclaredAiDecides = false };

        ImageScore merged = VerdictPolicy.MergeImage(image, new JobMetadata(DeclaredAi: true), options);

        Assert.Equal(Labels.Human, merged.Label);
        Assert.Contains(merged.Reasons!, r => r.StartsWith(StrongAi.Detail, StringComparison.Ordinal));
    }

    [Fact]
    public void AJobIsAsAiAsItsMostAiImageAndCarriesItsReasons()
    {
        ImageScore[] images =
        [
            new(0, "a.jpg", "00", null, 0.1, "m/1", null, false, null) { ClassifierLabel = Labels.Human },
            new(1, "b.png", "01", null, 0.2, "m/1", null, false, null, [StrongAi]) { ClassifierLabel = Labels.Human },
        ];

        JobVerdict verdict = VerdictPolicy.Merge("j", images, new JobMetadata(DeclaredAi: false), new VerdictOptions(), "m/1", DateTimeOffset.UnixEpoch);

        Assert.Equal(Labels.Ai, verdict.Label);
        Assert.Equal(0.2, verdict.AiProbability);
        Assert.True(verdict.Conflict);
        Assert.Contains("b.png: " + StrongAi.Detail, verdict.Reasons!);
        Assert.Equal([Labels.Human, Labels.Ai], verdict.Images.Select(i => i.Label));
    }
}
