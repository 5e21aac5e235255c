using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json;
using ArtGrid.Abstractions;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Grains.Imaging.Sandbox;

/// <summary>
/// The decode worker's side: read requests from stdin, decode one at a time, answer on stdout. A reader thread watches
/// stdin, so that when the supervisor goes away (its end of the pipe closes) the worker exits even in the middle of a
/// decode that never returns.
/// </summary>
public static class DecodeWorkerLoop
{
    public const string OptionsArgument = "--options";

    /// <summary>Entry point of the worker program: <c>--options JSON</c> carries the preprocessing options.</summary>
    public static int Run(string[] args)
    {
        PreprocessingOptions options = args is [OptionsArgument, var json]
            ? JsonSerializer.Deserialize<PreprocessingOptions>(json) ?? new PreprocessingOptions()
            : throw new ArgumentException($"usage: artgrid-decode-worker {OptionsArgument} JSON (started by the ArtGrid decode supervisor)");

        // Stdout is the protocol channel: anything a library prints goes to stderr instead.
        Stream input = Console.OpenStandardInput();
        Stream output = Console.OpenStandardOutput();
        Console.SetOut(Console.Error);
        return Serve(input, output, options, onInputClosed: () => Environment.Exit(0));
    }

    internal static int Serve(Stream input, Stream output, PreprocessingOptions options, Action onInputClosed)
    {
        var preprocessor = new ImagePreprocessor(Options.Create(options));
        WarmUp(preprocessor);

        using var requests = new BlockingCollection<byte[]>(boundedCapacity: 4);
        var reader = new Thread(() =>
        {
            try
            {
                while (DecodeProtocol.ReadFrameAsync(input, options.MaxBytes + 64).GetAwaiter().GetResult() is { } frame)
                {
                    requests.Add(frame);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or EndOfStreamException or ObjectDisposedException)
            {
                Console.Error.WriteLine($"decode worker: request stream failed: {ex.Message}");
            }

            requests.CompleteAdding();
            onInputClosed();
        })
        {
            IsBackground = true,
            Name = "decode-requests",
        };

        DecodeProtocol.WriteFrame(output, DecodeProtocol.Ready(Environment.ProcessId, preprocessor.Decoder.ToString()));
        reader.Start();
        foreach (byte[] frame in requests.GetConsumingEnumerable())
        {
            (int id, int width, int height, byte[] bytes) = DecodeProtocol.ReadDecodeRequest(frame);
            try
            {
                PreparedImage prepared = preprocessor.Decode(
                    bytes, width, height, out Image<Rgb24>? image,
                    onHeader: (w, h) => DecodeProtocol.WriteFrame(output, DecodeProtocol.Header(id, w, h)));
                using (image)
                {
                    byte[] pixels = image is null ? [] : new byte[width * height * 3];
                    image?.CopyPixelDataTo(MemoryMarshal.Cast<byte, Rgb24>(pixels.AsSpan()));
                    DecodeProtocol.WriteFrame(output, DecodeProtocol.Result(id, prepared, pixels));
                }
            }
            catch (OutOfMemoryException)
            {
                // The heap may be in any state: answer, then leave; the supervisor starts a fresh worker.
                PreparedImage failed = PreparedImage.Fail(ErrorCodes.DecodeMemoryLimit, "The decoder ran out of memory on this image.");
                DecodeProtocol.WriteFrame(output, DecodeProtocol.Result(id, failed, []));
                return 3;
            }
        }

        return 0;
    }

    // Run each decoder path once so that the first real image does not pay for the JIT.
    private static void WarmUp(ImagePreprocessor preprocessor)
    {
        using var image = new Image<Rgb24>(64, 48, new Rgb24(90, 120, 150));
        using var png = new MemoryStream();
        image.SaveAsPng(png);
        using var jpeg = new MemoryStream();
        image.SaveAsJpeg(jpeg, new JpegEncoder { Quality = 90 });
        foreach (byte[] file in new[] { png.ToArray(), jpeg.ToArray() })
        {
            preprocessor.Decode(file, 224, 224, out Image<Rgb24>? decoded);
            decoded?.Dispose();
        }
    }
}
