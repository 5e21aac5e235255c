namespace ArtGrid;

/// <summary>
/// Where in the image the classifier found its evidence: a class activation map of <see cref="Height"/> x
/// <see cref="Width"/> cells over the whole image (row-major), in logit units. Each cell is the logit the image would
/// get if every part of it looked like that cell; the cells' mean is the image's logit, so sigmoid(cell) reads as a
/// probability of AI. Small (the backbone's last feature map, 7 x 7 for ResNet-18 at 224), so it travels with the score.
/// </summary>
[GenerateSerializer, Immutable, Alias("artgrid.ActivationMap")]
public sealed record ActivationMap(
    [property: Id(0)] int Height,
    [property: Id(1)] int Width,
    [property: Id(2)] float[] Logits)
{
    /// <summary>The logit at row <paramref name="y"/>, column <paramref name="x"/>.</summary>
    public float this[int y, int x] => Logits[(y * Width) + x];
}
