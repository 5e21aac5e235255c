using ArtGrid.Grains.Imaging;
using ArtGrid.Grains.Inference;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests;

/// <summary>The shipped default model, its CPU session and the serving preprocessor, loaded once for a test class.</summary>
public sealed class ModelFixture : IDisposable
{
    public ModelFixture()
    {
        Model = new ModelRepository(TestAssets.ModelsDir).Load("artgrid-resnet18");
        Session = new OnnxModelSession(Model, "cpu:0", intraOpThreads: 0);
        Preprocessor = new ImagePreprocessor(Options.Create(new PreprocessingOptions()));
    }

    public LoadedModel Model { get; }

    public OnnxModelSession Session { get; }

    public ImagePreprocessor Preprocessor { get; }

    public float[] Tensor(string file) =>
        Preprocessor.Prepare(File.ReadAllBytes(file), Model.Input).Tensor ?? throw new InvalidOperationException($"{file} did not preprocess.");

    public void Dispose() => Session.Dispose();
}
