namespace ArtGrid.Grains.Inference;

/// <summary>Configurations of the backbones ArtGrid knows how to feed.</summary>
public static class ModelTemplates
{
    /// <summary>
    /// ResNet-18 from Microsoft.ML.DnnImageFeaturizer.ResNet18 (ImageNet weights). Its companion graph
    /// ResNetPreprocess.onnx takes RGB planar 0..255, reorders to BGR and subtracts a per-pixel mean image
    /// (channel means about 103, 116, 123): that is exactly what the input spec below reproduces. The features are the
    /// last convolutional map (ReLU393, [N, 512, 7, 7]) averaged over its cells, which is what the package's own
    /// pooling output (Pooling395) computes; reading the map itself gives each image a class activation map for free.
    /// </summary>
    public static ModelConfig ResNet18(string name, string version) => new()
    {
        Name = name,
        Version = version,
        Description = "ImageNet ResNet-18 (pooled 512 features) + logistic-regression head",
        Backbone = new BackboneConfig { File = "ResNet18.onnx", Output = "ReLU393_Output_0", FeatureMap = "ReLU393_Output_0", DynamicBatch = true },
        Input = new InputConfig
        {
            Name = "Input247",
            Width = 224,
            Height = 224,
            Layout = "NCHW",
            ChannelOrder = "BGR",
            Scale = 1f,
            Mean = [103.06f, 115.90f, 123.15f],
            Std = [1f, 1f, 1f],
            MeanImage = "ResNetPreprocess.onnx#MeanImage",
        },
    };
}
