using ArtGrid.Inference;

namespace ArtGrid.Tests.Models;

/// <summary>A load prepares the backbone graph once and hands it to its first session.</summary>
public sealed class ModelLoadTests
{
    [Fact]
    public void TheFirstSessionTakesTheGraphItsLoadPrepared_AndALaterOneScoresTheSameFromItsOwn()
    {
        LoadedModel model = new ModelRepository(TestAssets.ModelsDir).Load(TestAssets.DefaultModelId);
        var preprocessor = new Imaging.ImagePreprocessor(Microsoft.Extensions.Options.Options.Create(new Imaging.PreprocessingOptions()));
        float[] tensor = preprocessor.Prepare(File.ReadAllBytes(TestAssets.Photo), model.Input).Tensor!;
        Assert.NotNull(model.Graph);

        using var first = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);
        Assert.Null(model.Graph.Take()); // taken by the first session: no copy stays with the model
        using var second = new OnnxModelSession(model, "cpu:0", intraOpThreads: 1);

        Assert.Equal(first.Score([tensor])[0].AiProbability, second.Score([tensor])[0].AiProbability);
    }
}
