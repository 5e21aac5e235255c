namespace ArtGrid.Inference;

/// <summary>Configurations of the backbones ArtGrid knows how to feed.</summary>
public static class ModelTemplates
{
    /// <summary>
    /// ResNet-18 from Microsoft.ML.DnnImageFeaturizer.ResNet18 (ImageNet weights). Its companion graph
    /// ResNetPreprocess.onnx takes RGB planar 0..255, reorders to BGR and subtracts a per-pixel mean image
    /// (channel means about 103, 116, 123): that is exactly what the input spec below reproduces at 224x224; at another
    /// size the channel means are subtracted instead. The features are the named convolutional maps averaged over their
    /// cells (the last one, ReLU393 [N, 512, 7, 7], averages to what the package's pooling output Pooling395 computes;
    /// the second stage, ReLU315 [N, 128, 28, 28], is what the default model reads). With one output, that map is also
    /// the feature map of the class activation maps, which cost no extra inference. The graph is cut after the last
    /// output it needs.
    /// </summary>
    /// <param name="fit">With <see cref="ImageFit.Crop"/>, the middle window at the image's own scale, images first shrunk to <paramref name="maxSide"/>.</param>
    public static ModelConfig ResNet18(string name, string version, IReadOnlyList<string>? outputs = null, int inputSize = 224, ImageFit fit = ImageFit.Stretch, int maxSide = 0)
    {
        IReadOnlyList<string> read = outputs ?? ["ReLU393_Output_0"];
        string stages = string.Join(" + ", read.Select(o => o == TraceStatistics.OutputName ? "trace statistics" : o.Replace("_Output_0", "", StringComparison.Ordinal)));
        // The first convolutional map is the activation maps' (trace statistics are [N, F, 1, 1]: no map).
        string? featureMap = read.FirstOrDefault(o => o != TraceStatistics.OutputName);
        string framing = fit == ImageFit.Crop ? $"the middle {inputSize}x{inputSize} at the image's own scale" : $"{inputSize}x{inputSize}";
        return new ModelConfig
        {
            Name = name,
            Version = version,
            Description = $"ImageNet ResNet-18 on {framing}, {stages} averaged over the image + logistic-regression head",
            Backbone = new BackboneConfig { File = "ResNet18.onnx", Outputs = read, FeatureMap = featureMap, DynamicBatch = true },
            Input = new InputConfig
            {
                Name = "Input247",
                Width = inputSize,
                Height = inputSize,
                Layout = "NCHW",
                ChannelOrder = "BGR",
                Scale = 1f,
                Mean = [103.06f, 115.90f, 123.15f],
                Std = [1f, 1f, 1f],
                // The mean image is of the whole picture squashed to 224: a window of it is no mean of anything.
                MeanImage = inputSize == 224 && fit == ImageFit.Stretch ? "ResNetPreprocess.onnx#MeanImage" : null,
                Fit = fit == ImageFit.Crop ? "crop" : "stretch",
                MaxSide = maxSide,
            },
        };
    }
}
