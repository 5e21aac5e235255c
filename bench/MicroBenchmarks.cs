using ArtGrid.Grains.Models;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Bench;

/// <summary>
/// Micro-benchmarks of the per-image steps around the network: packing a 224x224 image into the model's tensor (with
/// the served model's mean image, and with plain per-channel means), the linear head, and the activation map's weighted
/// sums. <c>artgrid-bench micro [BenchmarkDotNet arguments]</c>; runs in process unless told otherwise.
/// </summary>
[MemoryDiagnoser]
public class PerImageSteps
{
    private Image<Rgb24> _image = null!;
    private float[] _tensor = null!;
    private ModelInputSpec _served = null!;
    private ModelInputSpec _plain = null!;
    private LinearHead _head = null!;
    private float[] _features = null!;
    private float[] _featureMap = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _image = new Image<Rgb24>(224, 224);
        _image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                foreach (ref Rgb24 p in rows.GetRowSpan(y))
                {
                    p = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                }
            }
        });
        LoadedModel model = new ModelRepository(Path.Combine(AppContext.BaseDirectory, "models")).Load("artgrid-resnet18");
        _served = model.Input;
        _plain = new ModelInputSpec("input", 224, 224, TensorLayout.Nchw, ChannelOrder.Rgb, 1f / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
        _tensor = new float[_served.ElementCount];
        _head = model.Head!;
        _features = [.. Enumerable.Range(0, _head.FeatureCount).Select(_ => (float)random.NextDouble())];
        _featureMap = [.. Enumerable.Range(0, _head.FeatureCount * 49).Select(_ => (float)random.NextDouble())];
    }

    [GlobalCleanup]
    public void Cleanup() => _image.Dispose();

    [Benchmark(Description = "TensorPacker.Pack 224x224, served spec (BGR, mean image)")]
    public void PackServed() => TensorPacker.Pack(_image, _served, _tensor);

    [Benchmark(Description = "TensorPacker.Pack 224x224, RGB with per-channel mean/std")]
    public void PackPlain() => TensorPacker.Pack(_image, _plain, _tensor);

    [Benchmark(Description = "LinearHead.Logit, 512 features")]
    public double HeadLogit() => _head.Logit(_features);

    [Benchmark(Description = "ClassActivationMaps.WeightedSums, 512 x 7 x 7")]
    public double[] ActivationMapSums() => ClassActivationMaps.WeightedSums(_featureMap, _head.FeatureCount, 49, _head, 0);

    public static int Run(string[] args)
    {
        var list = args.ToList();
        if (!list.Any(a => a.Equals("--filter", StringComparison.OrdinalIgnoreCase) || a == "-f"))
        {
            list.AddRange(["--filter", "*"]);
        }

        // Out of process, BenchmarkDotNet rebuilds the whole project graph for every run; in process is the default here.
        if (!list.Any(a => a.Equals("--inProcess", StringComparison.OrdinalIgnoreCase) || a.Equals("--outOfProcess", StringComparison.OrdinalIgnoreCase)))
        {
            list.Add("--inProcess");
        }

        list.RemoveAll(a => a.Equals("--outOfProcess", StringComparison.OrdinalIgnoreCase));
        var summaries = BenchmarkSwitcher.FromTypes([typeof(PerImageSteps)]).Run([.. list]);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
