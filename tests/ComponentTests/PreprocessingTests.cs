using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Devices;
using ArtGrid.Grains.Models;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ArtGrid.Tests;

public sealed class PreprocessingTests(ModelFixture fixture) : IClassFixture<ModelFixture>
{
    private const string ReferencePhoto = "photo-chelsea-cat.224.png";

    private Image<Rgb24> Decode(byte[] bytes)
    {
        PreparedImage result = fixture.Preprocessor.Decode(bytes, new ImageFraming(224, 224), out Image<Rgb24>? image);
        Assert.Null(result.Error);
        return image!;
    }

    [Fact]
    public void ACropKeepsTheImagesOwnPixelsInTheMiddleWindowAndEnlargesOnlyWhatIsTooSmall()
    {
        // A PNG (lossless) of 300 x 250 with a distinct colour per pixel: the window starts at (32, 8) (see ImageFraming).
        using var source = new Image<Rgb24>(300, 250);
        for (int y = 0; y < 250; y++)
        {
            for (int x = 0; x < 300; x++)
            {
                source[x, y] = new Rgb24((byte)x, (byte)y, (byte)((x * 7) + (y * 13)));
            }
        }

        using var png = new MemoryStream();
        source.SaveAsPng(png);
        var framing = new ImageFraming(224, 224, ImageFit.Crop, MaxSide: 768);

        PreparedImage result = fixture.Preprocessor.Decode(png.ToArray(), framing, keepOriented: true, out Image<Rgb24>? window, out Image<Rgb24>? oriented);

        Assert.Null(result.Error);
        Assert.Equal((300, 250), (result.Width, result.Height));
        using (window)
        using (oriented)
        {
            Assert.Equal((224, 224), (window!.Width, window.Height));
            for (int y = 0; y < 224; y += 17)
            {
                for (int x = 0; x < 224; x += 13)
                {
                    Assert.Equal(source[x + 32, y + 8], window[x, y]);
                }
            }

            // For an activation map the image as scored is the window itself.
            Assert.Equal((224, 224), (oriented!.Width, oriented.Height));
            Assert.Equal(window[100, 100], oriented[100, 100]);
        }

        // A 128-pixel image is enlarged to the window; nothing is cut.
        using var small = new Image<Rgb24>(128, 96, new Rgb24(10, 200, 30));
        using var smallPng = new MemoryStream();
        small.SaveAsPng(smallPng);
        Assert.Null(fixture.Preprocessor.Decode(smallPng.ToArray(), framing, out Image<Rgb24>? enlarged).Error);
        using (enlarged)
        {
            Assert.Equal((224, 224), (enlarged!.Width, enlarged.Height));
            Assert.Equal(new Rgb24(10, 200, 30), enlarged[112, 112]);
        }
    }

    [Fact]
    public void PackingEqualsThePackagesOwnPreprocessingGraph()
    {
        // ResNetPreprocess.onnx (shipped beside ResNet18.onnx) takes RGB planar 0..255, reorders to BGR and
        // subtracts its mean image. Feed it the same resized photo and compare with ArtGrid's packing.
        using Image<Rgb24> image = Decode(File.ReadAllBytes(TestAssets.Photo));
        var rgbPlanar = new float[3 * 224 * 224];
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < 224; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < 224; x++)
                {
                    rgbPlanar[y * 224 + x] = row[x].R;
                    rgbPlanar[224 * 224 + y * 224 + x] = row[x].G;
                    rgbPlanar[2 * 224 * 224 + y * 224 + x] = row[x].B;
                }
            }
        });

        string graph = ModelRepository.ResolveAsset(fixture.Model.Directory, "ResNetPreprocess.onnx");
        using var session = new InferenceSession(graph);
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(rgbPlanar, [1, 3, 224, 224]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["OriginalInput"], [input], ["PreprocessedInput"]);
        float[] expected = outputs[0].GetTensorDataAsSpan<float>().ToArray();

        float[] actual = TensorPacker.Pack(image, fixture.Model.Input);
        Assert.Equal(expected.Length, actual.Length);
        float worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-3f, $"packing differs from ResNetPreprocess.onnx by {worst}");

        // And the order is BGR: channel 0 of the tensor follows the photo's blue, not its red.
        int pixel = 112 * 224 + 112;
        Rgb24 centre = image[112, 112];
        Assert.Equal(centre.B - fixture.Model.Input.MeanImage![pixel], actual[pixel], 3);
    }

    [Theory]
    [InlineData(TensorLayout.Nchw, ChannelOrder.Rgb)]
    [InlineData(TensorLayout.Nchw, ChannelOrder.Bgr)]
    [InlineData(TensorLayout.Nhwc, ChannelOrder.Rgb)]
    [InlineData(TensorLayout.Nhwc, ChannelOrder.Bgr)]
    public void PackingByTableGivesTheSameBitsAsTheFormula(TensorLayout layout, ChannelOrder order)
    {
        // ImageNet's mean and std on a 0..1 scale: values that do not round the same way by accident.
        var spec = new ModelInputSpec("x", 37, 23, layout, order, 1f / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
        var random = new Random(11);
        Rgb24[] pixels = [.. Enumerable.Range(0, 37 * 23).Select(i => i < 256 ? new Rgb24((byte)i, (byte)(255 - i), (byte)(i * 7)) : new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)))];
        var actual = new float[spec.ElementCount];
        TensorPacker.Pack(pixels, spec, actual);

        int plane = 37 * 23;
        for (int i = 0; i < plane; i++)
        {
            Rgb24 p = pixels[i];
            byte[] channels = order == ChannelOrder.Bgr ? [p.B, p.G, p.R] : [p.R, p.G, p.B];
            for (int c = 0; c < 3; c++)
            {
                float expected = (channels[c] * spec.Scale - spec.Mean[c]) * (1f / spec.Std[c]);
                float packed = layout == TensorLayout.Nchw ? actual[(c * plane) + i] : actual[(3 * i) + c];
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(packed));
            }
        }
    }

    [Theory]
    [InlineData(DecoderKind.Skia, "photo-chelsea-cat.224.skia.png")]
    [InlineData(DecoderKind.TurboJpeg, "photo-chelsea-cat.224.skia.png")] // the same libjpeg-turbo pixels as Skia's
    [InlineData(DecoderKind.ImageSharp, ReferencePhoto)]
    public void ThePhotoResizesToTheReferenceImage(DecoderKind decoder, string referenceName)
    {
        // The decoders' JPEG upsampling differs by a few levels, so each has its own reference.
        var preprocessor = new ImagePreprocessor(Options.Create(new PreprocessingOptions { Decoder = decoder }));
        Assert.Null(preprocessor.Decode(File.ReadAllBytes(TestAssets.Photo), new ImageFraming(224, 224), out Image<Rgb24>? decoded).Error);
        using Image<Rgb24> image = decoded!;
        string reference = TestAssets.ReferenceFile(referenceName);
        if (Environment.GetEnvironmentVariable("ARTGRID_UPDATE_REFERENCES") == "1")
        {
            image.SaveAsPng(TestAssets.ReferenceFile(referenceName));
            return;
        }

        using Image<Rgb24> expected = Image.Load<Rgb24>(reference);
        Assert.Equal((224, 224), (expected.Width, expected.Height));
        int worst = 0;
        for (int y = 0; y < 224; y++)
        {
            for (int x = 0; x < 224; x++)
            {
                Rgb24 a = image[x, y], b = expected[x, y];
                worst = Math.Max(worst, Math.Max(Math.Abs(a.R - b.R), Math.Max(Math.Abs(a.G - b.G), Math.Abs(a.B - b.B))));
            }
        }

        Assert.True(worst <= 1, $"resized photo differs from {referenceName} by {worst} levels");
    }

    [Fact]
    public void ExifOrientationIsApplied()
    {
        // Store the photo's pixels rotated 90 degrees anticlockwise with Orientation=6 ("rotate 90 clockwise to
        // display"), as a phone does. Decoding must give back the upright photo.
        using Image<Rgb24> upright = Image.Load<Rgb24>(TestAssets.Photo);
        using Image<Rgb24> stored = upright.Clone(x => x.Rotate(RotateMode.Rotate270));
        stored.Metadata.ExifProfile = new ExifProfile();
        stored.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var rotatedFile = new MemoryStream();
        stored.Save(rotatedFile, new JpegEncoder { Quality = 95 });
        using var uprightFile = new MemoryStream();
        upright.Save(uprightFile, new JpegEncoder { Quality = 95 });

        using Image<Rgb24> oriented = Decode(rotatedFile.ToArray());
        using Image<Rgb24> reference = Decode(uprightFile.ToArray());
        using Image<Rgb24> ignored = Decode(ReEncodeWithoutExif(stored));
        double withOrientation = MeanAbsoluteDifference(oriented, reference);
        double withoutOrientation = MeanAbsoluteDifference(ignored, reference);
        Assert.True(withOrientation < 4, $"oriented decode differs from the upright photo by {withOrientation:0.0} levels on average");
        Assert.True(withoutOrientation > 4 * withOrientation, $"the test photo is too symmetric to tell ({withoutOrientation:0.0})");
    }

    [Fact]
    public void TransparencyIsCompositedOverWhiteAsInTraining()
    {
        using var image = new Image<Rgba32>(64, 64, new Rgba32(0, 0, 0, 0));
        using var png = new MemoryStream();
        image.Save(png, new PngEncoder { ColorType = PngColorType.RgbWithAlpha });
        using Image<Rgb24> decoded = Decode(png.ToArray());
        Assert.Equal(new Rgb24(255, 255, 255), decoded[10, 10]);
        Assert.Equal(new Rgb24(255, 255, 255), decoded[200, 200]);
    }

    [Fact]
    public void AnimatedGifScoresItsFirstFrame()
    {
        using var gif = new Image<Rgba32>(32, 32, new Rgba32(255, 0, 0, 255));
        using (var second = new Image<Rgba32>(32, 32, new Rgba32(0, 0, 255, 255)))
        {
            gif.Frames.AddFrame(second.Frames.RootFrame);
        }

        Assert.Equal(2, gif.Frames.Count);
        using var file = new MemoryStream();
        gif.Save(file, new GifEncoder());
        using Image<Rgb24> decoded = Decode(file.ToArray());
        Rgb24 centre = decoded[112, 112];
        Assert.True(centre.R > 200 && centre.B < 50, $"expected the red first frame, got {centre}");
    }

    [Theory]
    [MemberData(nameof(BadFileNames))]
    public void HostileFilesGetAPerImageErrorAndNoTensor(string name)
    {
        (_, byte[] bytes, string code) = TestAssets.BadFiles().Single(f => f.Name == name);
        PreparedImage result = fixture.Preprocessor.Prepare(bytes, fixture.Model.Input);
        Assert.Null(result.Tensor);
        Assert.NotNull(result.Error);
        Assert.Equal(code, result.Error!.Code);
        Assert.False(string.IsNullOrWhiteSpace(result.Error.Message));
    }

    public static TheoryData<string> BadFileNames() => [.. TestAssets.BadFiles().Select(f => f.Name)];

    [Fact]
    public void ARealPngWithAJpegExtensionIsDecodedByItsContent()
    {
        using Image<Rgb24> photo = Image.Load<Rgb24>(TestAssets.Photo);
        using var png = new MemoryStream();
        photo.SaveAsPng(png);
        PreparedImage result = fixture.Preprocessor.Prepare(png.ToArray(), fixture.Model.Input);
        Assert.Null(result.Error);
        Assert.Equal("PNG", result.Format);
        Assert.Equal(fixture.Model.Input.ElementCount, result.Tensor!.Length);
    }

    [Fact]
    public void TruncationChecksAcceptWholeFilesAndRefuseCutOnes()
    {
        byte[] jpeg = File.ReadAllBytes(TestAssets.Photo);
        Assert.True(ContainerChecks.JpegHasEndOfImage(jpeg));
        Assert.False(ContainerChecks.JpegHasEndOfImage(jpeg[..^2]));
        using Image<Rgb24> photo = Image.Load<Rgb24>(TestAssets.Photo);
        using var png = new MemoryStream();
        photo.SaveAsPng(png);
        byte[] pngBytes = png.ToArray();
        Assert.True(ContainerChecks.PngHasEnd(pngBytes));
        Assert.False(ContainerChecks.PngHasEnd(pngBytes[..(pngBytes.Length - 20)]));
        Assert.Equal(ErrorCodes.DecodeFailed, fixture.Preprocessor.Prepare(pngBytes[..(pngBytes.Length / 2)], fixture.Model.Input).Error?.Code);
    }

    private static byte[] ReEncodeWithoutExif(Image<Rgb24> image)
    {
        using Image<Rgb24> copy = image.Clone();
        copy.Metadata.ExifProfile = null;
        using var stream = new MemoryStream();
        copy.Save(stream, new JpegEncoder { Quality = 95 });
        return stream.ToArray();
    }

    private static double MeanAbsoluteDifference(Image<Rgb24> a, Image<Rgb24> b)
    {
        double sum = 0;
        for (int y = 0; y < a.Height; y++)
        {
            for (int x = 0; x < a.Width; x++)
            {
                sum += Math.Abs(a[x, y].R - b[x, y].R) + Math.Abs(a[x, y].G - b[x, y].G) + Math.Abs(a[x, y].B - b[x, y].B);
            }
        }

        return sum / (3.0 * a.Width * a.Height);
    }
}
