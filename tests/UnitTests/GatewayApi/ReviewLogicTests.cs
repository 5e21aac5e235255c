using ArtGrid.Hosting.Review;
using ArtGrid.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Tests.GatewayApi;

/// <summary>The reviewer console's pure parts: typing uploads by their bytes, the queues an image enters, the metrics, the CSV.</summary>
public sealed class ReviewLogicTests
{
    [Fact]
    public void EveryFormatArtgridScoresIsTypedByItsBytesAndNothingElseIs()
    {
        using var image = new Image<Rgb24>(8, 8);
        var encoded = new Dictionary<string, byte[]>();
        foreach ((string type, Action<Stream> save) in new (string, Action<Stream>)[]
        {
            ("image/png", s => image.SaveAsPng(s)),
            ("image/jpeg", s => image.SaveAsJpeg(s)),
            ("image/gif", s => image.SaveAsGif(s)),
            ("image/webp", s => image.SaveAsWebp(s)),
            ("image/bmp", s => image.SaveAsBmp(s)),
        })
        {
            using var stream = new MemoryStream();
            save(stream);
            encoded[type] = stream.ToArray();
        }

        foreach ((string type, byte[] bytes) in encoded)
        {
            Assert.Equal(type, ImageSniffer.ContentType(bytes));
        }

        Assert.Equal("image/jpeg", ImageSniffer.ContentType(File.ReadAllBytes(TestAssets.Photo)));
        Assert.Null(ImageSniffer.ContentType("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"u8));
        Assert.Null(ImageSniffer.ContentType("<html><body>hi</body></html>"u8));
        Assert.Null(ImageSniffer.ContentType("BM this is text"u8));
        Assert.Null(ImageSniffer.ContentType("RIFF\0\0\0\0WAVEfmt "u8));
        Assert.Null(ImageSniffer.ContentType([]));
        Assert.Null(ImageSniffer.ContentType([0x49, 0x49, 0x2A, 0x00, 0x08, 0, 0, 0])); // TIFF: never scored, never shown
    }

    [Fact]
    public void AnImageEntersTheQueuesOfItsLabelAndAFailedOneNone()
    {
        ImageScore Image(int index, string? label) => new(index, $"{index}.jpg", "ab", label, label is null ? null : 0.5, "m/1", label is null ? new ImageError("decode_failed", "x") : null, false, null);
        var verdict = new JobVerdict("job", "ai", 0.95, "m/1", [Image(0, "ai"), Image(1, "uncertain"), Image(2, "human"), Image(3, null)], DateTimeOffset.UnixEpoch, Conflict: true);

        Assert.Equal(["all", "ai", "conflict"], ReviewKeys.QueuesOf(verdict, verdict.Images[0]));
        Assert.Equal(["all", "uncertain"], ReviewKeys.QueuesOf(verdict, verdict.Images[1]));
        Assert.Equal(["all"], ReviewKeys.QueuesOf(verdict, verdict.Images[2]));
        Assert.Empty(ReviewKeys.QueuesOf(verdict, verdict.Images[3]));
        Assert.Equal(["all", "ai"], ReviewKeys.QueuesOf(verdict with { Conflict = false }, verdict.Images[0]));

        Assert.True(ReviewKeys.TryParseItem("a/b/12", out string jobId, out int index));
        Assert.Equal(("a/b", 12), (jobId, index));
        Assert.False(ReviewKeys.TryParseItem("nojob", out _, out _));
        Assert.False(ReviewKeys.TryParseItem("/3", out _, out _));
    }

    [Fact]
    public void MetricsCountUncertainAsNotFlaggedAndLeaveUndefinedRatesNull()
    {
        ReviewMetrics metrics = ReviewMetrics.Of([("ai", "ai"), ("ai", "human"), ("uncertain", "ai"), ("human", "human"), ("human", "ai"), (null, "human")]);
        Assert.Equal((6, 1, 1, 2, 2), (metrics.Reviewed, metrics.TruePositives, metrics.FalsePositives, metrics.TrueNegatives, metrics.FalseNegatives));
        Assert.Equal(0.5, metrics.Precision);
        Assert.Equal(1.0 / 3, metrics.Recall);
        Assert.Equal(0.5, metrics.Accuracy);

        ReviewMetrics none = ReviewMetrics.Of([("human", "human")]);
        Assert.Null(none.Precision);
        Assert.Null(none.Recall);
        Assert.Equal(1.0, none.Accuracy);
    }

    [Fact]
    public void CsvFieldsRoundTripThroughTheReaderTrainAndEvalUse()
    {
        string[] values = ["plain.jpg", "a,b.jpg", "say \"cheese\".png", "line\nbreak\r.jpg", "é,\"", ""];
        string line = string.Join(',', values.Select(ReviewStore.CsvField));
        Assert.DoesNotContain('\n', line);
        Assert.Equal(["plain.jpg", "a,b.jpg", "say \"cheese\".png", "line break .jpg", "é,\"", ""], LabelsCsv.ParseLine(line));
    }

    [Fact]
    public void ACursorRoundTripsAndAnythingElseIsRefused()
    {
        string cursor = Convert.ToBase64String("1764700000123\njob/with/slashes/3"u8.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal((1764700000123d, "job/with/slashes/3"), ReviewStore.ParseCursor(cursor));
        Assert.Throws<FormatException>(() => ReviewStore.ParseCursor("not-a-cursor"));
        Assert.Throws<FormatException>(() => ReviewStore.ParseCursor("%%%"));
    }
}
