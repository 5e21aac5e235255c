using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace ArtGrid.Imaging.Sandbox;

/// <summary>
/// The decode worker's side: read requests from stdin, decode one at a time, answer on stdout. A reader thread watches
/// stdin, so that when the supervisor goes away (its end of the pipe closes) the worker exits even in the middle of a
/// decode that never returns.
/// </summary>
public static class DecodeWorkerLoop
{
    public const string OptionsArgument = "--options";
    public const string ConfinementArgument = "--confinement";

    /// <summary>
    /// Entry point of the worker program: <c>--options JSON</c> carries the preprocessing options, <c>--confinement
    /// MODE</c> how much of the kernel's confinement it must get (<see cref="WorkerConfinement"/>);
    /// <c>--check-confinement</c> instead reports what this host's kernel refuses (<see cref="ConfinementProbes.Check"/>).
    /// </summary>
    public static int Run(string[] args)
    {
        if (args is [ConfinementProbes.CheckArgument, ..])
        {
            return ConfinementProbes.Check(args);
        }

        (PreprocessingOptions options, ConfinementMode mode) = args switch
        {
            [OptionsArgument, var json] => (ReadOptions(json), ConfinementMode.BestEffort),
            [OptionsArgument, var json, ConfinementArgument, var confinement] when Enum.TryParse(confinement, ignoreCase: true, out ConfinementMode m) => (ReadOptions(json), m),
            _ => throw new ArgumentException($"usage: artgrid-decode-worker {OptionsArgument} JSON [{ConfinementArgument} BestEffort|Required|Off] (started by the ArtGrid decode supervisor), or {ConfinementProbes.CheckArgument}"),
        };

        // First, before any input: inside Landlock, by executing this command line again (no return unless done).
        string? landlock;
        try
        {
            landlock = WorkerConfinement.ConfineAndReExecute(mode);
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or InvalidOperationException)
        {
            Console.Error.WriteLine($"decode worker: {ex.Message}");
            return 4;
        }

        // There is one worker per core: each resizes on one thread.
        options.MaxDegreeOfParallelism = 1;

        // Stdout is the protocol channel: anything a library prints goes to stderr instead.
        Stream input = Console.OpenStandardInput();
        Stream output = Console.OpenStandardOutput();
        Console.SetOut(Console.Error);
        return Serve(input, output, options, mode, landlock, onInputClosed: () => Environment.Exit(0));
    }

    private static PreprocessingOptions ReadOptions(string json) => JsonSerializer.Deserialize<PreprocessingOptions>(json) ?? new PreprocessingOptions();

    internal static int Serve(Stream input, Stream output, PreprocessingOptions options, ConfinementMode mode, string? landlock, Action onInputClosed)
    {
        var preprocessor = new ImagePreprocessor(Options.Create(options));
        if (preprocessor.DecoderProblem is { } problem)
        {
            // The supervisor logs the worker's stderr as warnings.
            Console.Error.WriteLine($"decode worker: {problem}");
        }

        WarmUp(preprocessor);

        // The runtime is up and the decoders compiled: from here on nothing needs a socket, a program or a mount.
        string confinement = "none (Confinement=Off)";
        if (mode != ConfinementMode.Off)
        {
            try
            {
                confinement = $"{landlock}; {WorkerConfinement.RefuseSystemCalls(mode)}; self-check: {WorkerConfinement.SelfCheck()}";
            }
            catch (PlatformNotSupportedException ex)
            {
                Console.Error.WriteLine($"decode worker: {ex.Message}");
                return 4;
            }

            if (mode == ConfinementMode.Required && confinement.Contains("allowed", StringComparison.Ordinal))
            {
                Console.Error.WriteLine($"decode worker: confinement is required, and the self-check got through: {confinement}");
                return 4;
            }
        }

        using var requests = new BlockingCollection<(int Id, ImageFraming Framing, byte[] Image, bool KeepOriented)>(boundedCapacity: 4);
        var reader = new Thread(() =>
        {
            try
            {
                while (DecodeProtocol.ReadDecodeRequest(input, options.MaxBytes) is { } request)
                {
                    requests.Add(request);
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

        DecodeProtocol.WriteFrame(output, DecodeProtocol.Ready(Environment.ProcessId, preprocessor.Decoder.ToString(), confinement));
        reader.Start();
        foreach ((int id, ImageFraming framing, byte[] bytes, bool keepOriented) in requests.GetConsumingEnumerable())
        {
            try
            {
                PreparedImage prepared = preprocessor.Decode(
                    bytes, framing, keepOriented, out Image<Rgb24>? image, out Image<Rgb24>? oriented,
                    onHeader: (w, h) => DecodeProtocol.WriteFrame(output, DecodeProtocol.Header(id, w, h)));
                using (image)
                using (oriented)
                {
                    int length = image is null ? 0 : framing.Width * framing.Height * 3;
                    int orientedLength = image is null || oriented is null ? 0 : oriented.Width * oriented.Height * 3;
                    byte[] pixels = ArrayPool<byte>.Shared.Rent(length + orientedLength);
                    try
                    {
                        image?.CopyPixelDataTo(MemoryMarshal.Cast<byte, Rgb24>(pixels.AsSpan(0, length)));
                        if (orientedLength > 0)
                        {
                            oriented!.CopyPixelDataTo(MemoryMarshal.Cast<byte, Rgb24>(pixels.AsSpan(length, orientedLength)));
                        }

                        DecodeProtocol.WriteResult(
                            output, id, prepared, pixels.AsSpan(0, length),
                            orientedLength > 0 ? oriented!.Width : 0, orientedLength > 0 ? oriented!.Height : 0, pixels.AsSpan(length, orientedLength));
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(pixels);
                    }
                }
            }
            catch (OutOfMemoryException)
            {
                // The heap may be in any state: answer, then leave; the supervisor starts a fresh worker.
                PreparedImage failed = PreparedImage.Fail(ErrorCodes.DecodeMemoryLimit, "The decoder ran out of memory on this image.");
                DecodeProtocol.WriteResult(output, id, failed, []);
                return 3;
            }
        }

        return 0;
    }

    // Run the decode, watermark, resize and copy paths until the JIT has compiled them fully (tiered compilation
    // recompiles a method after 30 calls), so that the first real images, and those after a worker is replaced, are
    // not decoded by unoptimised code. Costs about half a second per worker start.
    private static void WarmUp(ImagePreprocessor preprocessor)
    {
        using var image = new Image<Rgba32>(320, 240);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgba32> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgba32((byte)x, (byte)y, (byte)(x ^ y), (byte)(255 - (x % 7)));
                }
            }
        });
        using var png = new MemoryStream();
        image.SaveAsPng(png);
        using var jpeg = new MemoryStream();
        image.SaveAsJpeg(jpeg, new JpegEncoder { Quality = 90 });
        byte[][] files = [png.ToArray(), jpeg.ToArray()];
        byte[] pixels = new byte[224 * 224 * 3];
        for (int i = 0; i < 40; i++)
        {
            preprocessor.Decode(files[i % 2], new ImageFraming(224, 224), out Image<Rgb24>? decoded);
            using (decoded)
            {
                decoded?.CopyPixelDataTo(MemoryMarshal.Cast<byte, Rgb24>(pixels.AsSpan()));
            }
        }
    }
}
