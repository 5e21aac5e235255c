using ArtGrid.Grains.Models;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests;

/// <summary>
/// The shipped baseline model (artgrid-resnet18/1: the last stage, whose average is the package's own pooling output,
/// so the graph tests can check one against the other), its CPU session and the serving preprocessor, loaded once for a
/// test class. The default model (the newest version) is <see cref="TestAssets.DefaultModelId"/>.
/// </summary>
public sealed class ModelFixture : IDisposable
{
    public ModelFixture()
    {
        Model = new ModelRepository(TestAssets.ModelsDir).Load("artgrid-resnet18/1");
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
