using ArtGrid.Imaging;

namespace ArtGrid.Grains;

/// <summary>An image's score and, when the caller asked for it, the image as scored (for drawing its activation map).</summary>
public sealed record ScoredImage(ImageScore Score, OrientedImage? Oriented);
