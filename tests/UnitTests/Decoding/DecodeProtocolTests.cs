using ArtGrid.GrainInterfaces;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Sandbox;

namespace ArtGrid.Tests.Decoding;

/// <summary>The supervisor-worker frames, written by one side and read by the other, over a byte stream.</summary>
public sealed class DecodeProtocolTests
{
    [Fact]
    public async Task ARequestArrivesWithItsFieldsAndExactlyTheImageBytes()
    {
        byte[] image = [.. Enumerable.Range(0, 1000).Select(i => (byte)i)];
        using var pipe = new MemoryStream();
        await DecodeProtocol.WriteDecodeRequestAsync(pipe, 42, new ImageFraming(224, 160, ImageFit.Crop, 768), image);
        pipe.Position = 0;

        (int id, ImageFraming framing, byte[] received, bool keepOriented) = DecodeProtocol.ReadDecodeRequest(pipe, maxImageBytes: 1000)!.Value;

        Assert.Equal((42, new ImageFraming(224, 160, ImageFit.Crop, 768)), (id, framing));
        Assert.Equal(image, received);
        Assert.False(keepOriented);
        Assert.Null(DecodeProtocol.ReadDecodeRequest(pipe, 1000));
    }

    [Fact]
    public async Task TheImageAsScoredTravelsBackAfterTheResizedPixelsWhenAskedFor()
    {
        using var pipe = new MemoryStream();
        await DecodeProtocol.WriteDecodeRequestAsync(pipe, 9, new ImageFraming(4, 2), [1, 2, 3], keepOriented: true);
        pipe.Position = 0;
        Assert.True(DecodeProtocol.ReadDecodeRequest(pipe, 10)!.Value.KeepOriented);

        byte[] resized = [.. Enumerable.Range(0, 4 * 2 * 3).Select(i => (byte)i)];
        byte[] oriented = [.. Enumerable.Range(0, 5 * 3 * 3).Select(i => (byte)(200 - i))];
        using var results = new MemoryStream();
        DecodeProtocol.WriteResult(results, 9, new PreparedImage(null, null, "PNG", 5, 3), resized, 5, 3, oriented);
        results.Position = 0;

        DecodeProtocol.WorkerMessage message = DecodeProtocol.ReadWorkerMessage((await DecodeProtocol.ReadFrameAsync(results, 10_000))!);

        Assert.Equal(resized, message.Pixels!.Value.ToArray());
        Assert.Equal((5, 3), (message.Oriented!.Width, message.Oriented.Height));
        Assert.Equal(oriented, message.Oriented.Rgb);
    }

    [Fact]
    public async Task ARequestOverTheLimitIsRefusedBeforeItsBytesAreRead()
    {
        using var pipe = new MemoryStream();
        await DecodeProtocol.WriteDecodeRequestAsync(pipe, 1, new ImageFraming(224, 224), new byte[1001]);
        pipe.Position = 0;

        Assert.Throws<InvalidDataException>(() => DecodeProtocol.ReadDecodeRequest(pipe, maxImageBytes: 1000));
    }

    [Fact]
    public async Task ResultsRoundTripWithEvidenceErrorsAndPixels()
    {
        Evidence[] evidence = [new(EvidenceSignals.SdWatermark, EvidenceStrength.Strong, "bit errors 2%", "ai"), new("novelai", "strong", "stealth_pngcomp", "ai")];
        byte[] pixels = [.. Enumerable.Range(0, 4 * 3 * 3).Select(i => (byte)(i * 7))];
        using var pipe = new MemoryStream();
        DecodeProtocol.WriteFrame(pipe, DecodeProtocol.Header(7, 4000, 3000));
        DecodeProtocol.WriteResult(pipe, 7, new PreparedImage(null, null, "PNG", 4000, 3000, evidence), pixels);
        DecodeProtocol.WriteResult(pipe, 8, PreparedImage.Fail(ErrorCodes.DecodeFailed, "The PNG file is truncated.", "PNG", 10, 20), []);
        pipe.Position = 0;

        DecodeProtocol.WorkerMessage header = DecodeProtocol.ReadWorkerMessage((await DecodeProtocol.ReadFrameAsync(pipe, 1 << 20))!);
        DecodeProtocol.WorkerMessage ok = DecodeProtocol.ReadWorkerMessage((await DecodeProtocol.ReadFrameAsync(pipe, 1 << 20))!);
        DecodeProtocol.WorkerMessage failed = DecodeProtocol.ReadWorkerMessage((await DecodeProtocol.ReadFrameAsync(pipe, 1 << 20))!);

        Assert.Equal((DecodeMessage.Header, 7, 4000, 3000), (header.Kind, header.Id, header.Prepared.Width, header.Prepared.Height));
        Assert.Equal((DecodeMessage.Result, 7, "PNG", 4000, 3000), (ok.Kind, ok.Id, ok.Prepared.Format, ok.Prepared.Width, ok.Prepared.Height));
        Assert.Null(ok.Prepared.Error);
        Assert.Equal(evidence, ok.Prepared.Evidence);
        Assert.Equal(pixels, ok.Pixels!.Value.ToArray());
        Assert.Equal(new ImageError(ErrorCodes.DecodeFailed, "The PNG file is truncated."), failed.Prepared.Error);
        Assert.Equal(("PNG", 10, 20), (failed.Prepared.Format, failed.Prepared.Width, failed.Prepared.Height));
        Assert.Null(failed.Pixels);
        Assert.Null(await DecodeProtocol.ReadFrameAsync(pipe, 1 << 20));
    }

    [Fact]
    public async Task AFrameLongerThanTheReaderAllowsIsAProtocolError()
    {
        using var pipe = new MemoryStream();
        DecodeProtocol.WriteResult(pipe, 1, new PreparedImage(null, null, "JPEG", 1, 1), new byte[5000]);
        pipe.Position = 0;

        await Assert.ThrowsAsync<InvalidDataException>(() => DecodeProtocol.ReadFrameAsync(pipe, maxLength: 4096));
    }

    [Fact]
    public async Task AStringWhoseLengthRunsPastFiveBytesIsAProtocolError()
    {
        // Found by fuzz/run.sh protocol, kept as found: the target's direction byte (1: what a worker writes), then a Ready
        // frame whose decoder name has a length prefix of five bytes that all say "more follows". BinaryReader threw a
        // FormatException, which the supervisor does not take for a broken protocol, so it escaped the decode call.
        byte[] input = await File.ReadAllBytesAsync(TestAssets.FuzzInput("protocol-worker-string-length.bin"));
        using var pipe = new MemoryStream(input, 1, input.Length - 1);

        InvalidDataException refused = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            while (await DecodeProtocol.ReadFrameAsync(pipe, DecodeProtocol.MaxControlBytes) is { } frame)
            {
                DecodeProtocol.ReadWorkerMessage(frame);
            }
        });
        Assert.IsType<FormatException>(refused.InnerException);
    }
}
