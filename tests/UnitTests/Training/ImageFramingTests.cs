namespace ArtGrid.Tests.Training;

/// <summary>Where a native-scale crop cuts its window.</summary>
public sealed class ImageFramingTests
{
    [Theory]
    // image width x height -> the size it is resampled to, then the window's left and top
    [InlineData(768, 512, 768, 512, 272, 144)] // own scale; (768-224)/2 = 272, (512-224)/2 = 144: both multiples of 8
    [InlineData(300, 250, 300, 250, 32, 8)] // 38 and 13 rounded down to the block grid
    [InlineData(200, 400, 224, 448, 0, 112)] // the short side is enlarged to the window, the long one with it
    [InlineData(128, 128, 224, 224, 0, 0)]
    [InlineData(1536, 1024, 768, 512, 272, 144)] // shrunk to the longest side first, as the training set was
    public void TheWindowIsTheMiddleOfTheImageAtItsOwnScale(int width, int height, int scaledWidth, int scaledHeight, int left, int top)
    {
        var framing = new ImageFraming(224, 224, ImageFit.Crop, MaxSide: 768);

        Assert.Equal((scaledWidth, scaledHeight, left, top), framing.CropWindow(width, height));
    }
}
