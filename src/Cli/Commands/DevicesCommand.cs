using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ArtGrid.Grains.Models;
using ArtGrid.Hosting.Embedded;
using ArtGrid.Imaging;
using ArtGrid.Inference;
using ArtGrid.Inference.Devices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// <c>artgrid devices [--check]</c>: what this node can run inference on: ONNX Runtime's providers, the GPUs nvidia-smi
/// sees, and the devices asked for (<c>--device</c>, else <c>ArtGrid:Inference:Devices</c>, else cpu:0). With
/// <c>--check</c>, each real device loads the model as <c>score</c> would, runs one warm-up batch and then times
/// batches, one line per device; a device that fails is reported on its line and on stderr, the others still run, and
/// the exit code is <see cref="ExitCodes.Failed"/>.
/// </summary>
public static class DevicesCommand
{
    public static Command Create()
    {
        var devices = new Option<string[]>("--device")
        {
            Description = "A device to list or check: cpu:N, cuda:N, cuda:all (every GPU nvidia-smi lists) or sim:N; repeatable (default: ArtGrid:Inference:Devices, else cpu:0).",
        };
        var check = new Option<bool>("--check") { Description = "Load the model on each device and time batches of a real image." };
        var batch = new Option<int>("--batch") { Description = "Images per timed batch.", DefaultValueFactory = _ => 16 };
        var batches = new Option<int>("--batches") { Description = "Timed batches per device (after one warm-up batch).", DefaultValueFactory = _ => 20 };
        var image = new Option<string?>("--image") { Description = "The image whose tensor fills the batches (default: the first samples/**/*.jpg under the current folder, else a blank tensor)." };
        var ioBinding = new Option<bool>("--io-binding") { Description = "Run every device through an IOBinding (default: ArtGrid:Inference:Cuda:UseIoBinding on cuda:N, off on cpu:N)." };
        var models = ModelOptions.Models();
        var model = ModelOptions.Model();

        var command = new Command("devices", "List this node's inference providers, GPUs and devices; with --check, time the model on each.")
        {
            devices, check, batch, batches, image, ioBinding, models, model,
        };
        command.SetAction((result, cancellationToken) => RunAsync(
            new Request(
                result.GetValue(devices) ?? [],
                result.GetValue(check),
                result.GetValue(batch),
                result.GetValue(batches),
                result.GetValue(image),
                result.GetValue(ioBinding) ? true : null,
                EmbeddedCluster.Settings(result.GetValue(models), result.GetValue(model), maxBatch: null)),
            Console.Out,
            Console.Error,
            cancellationToken));
        return command;
    }

    /// <summary>What <c>artgrid devices</c> was asked for.</summary>
    /// <param name="Devices">The <c>--device</c> values; empty takes the configuration's.</param>
    /// <param name="Check">Whether to load and time the model on each device.</param>
    /// <param name="Batch">Images per timed batch.</param>
    /// <param name="Batches">Timed batches per device.</param>
    /// <param name="Image">The image whose tensor fills the batches; null looks for a sample.</param>
    /// <param name="UseIoBinding">True forces IOBinding on every device; null follows the configuration.</param>
    /// <param name="Settings">Configuration the shared options set (<c>--models</c>, <c>--model</c>).</param>
    public sealed record Request(
        IReadOnlyList<string> Devices,
        bool Check,
        int Batch,
        int Batches,
        string? Image,
        bool? UseIoBinding,
        IReadOnlyDictionary<string, string?> Settings);

    public static async Task<int> RunAsync(Request request, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (request.Batch is < 1 or > 1024 || request.Batches is < 1 or > 100_000)
        {
            await error.WriteLineAsync("artgrid devices: --batch must be 1 to 1024 and --batches 1 to 100000.");
            return ExitCodes.Usage;
        }

        // As score reads it: environment variables (ArtGrid__Inference__...), then the command line; no settings file.
        IConfigurationRoot configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddInMemoryCollection(request.Settings.Where(kv => kv.Value is not null))
            .Build();
        InferenceOptions inference = configuration.GetSection(InferenceOptions.SectionName).Get<InferenceOptions>() ?? new InferenceOptions();

        // Read from the section itself: binding an array onto InferenceOptions' default would keep that default's cpu:0.
        string[] configured = [.. configuration.GetSection($"{InferenceOptions.SectionName}:{nameof(InferenceOptions.Devices)}").GetChildren()
            .Select(c => c.Value).OfType<string>()];
        IReadOnlyList<string> asked = request.Devices.Count > 0 ? request.Devices : configured.Length > 0 ? configured : ["cpu:0"];

        await output.WriteLineAsync($"ONNX Runtime {OrtVersion()}: providers {string.Join(", ", OnnxModelSession.AvailableProviders)}");
        IReadOnlyList<GpuInfo> gpus = new GpuProbe().List(out string? whyNoGpus);
        if (gpus.Count == 0)
        {
            await output.WriteLineAsync($"GPUs: none ({whyNoGpus})");
        }

        foreach (GpuInfo gpu in gpus)
        {
            string memory = gpu.MemoryMib is { } mib ? $"{mib} MiB" : "memory unknown";
            await output.WriteLineAsync($"GPU {gpu.Index}: {gpu.Name}, {memory}, driver {gpu.Driver}");
        }

        var failures = new List<string>();
        if (Expand(asked, gpus, whyNoGpus, failures, out string? invalid) is not { } targets)
        {
            await error.WriteLineAsync($"artgrid devices: --device '{invalid}' is not cpu:N, cuda:N, cuda:all or sim:N.");
            return ExitCodes.Usage;
        }

        await output.WriteLineAsync($"devices: {(targets.Count == 0 ? "none" : string.Join(", ", targets))}");
        if (request.Check)
        {
            int? setup = await CheckAsync(request, configuration, inference, targets, output, error, failures, cancellationToken);
            if (setup is { } code)
            {
                return code;
            }
        }

        foreach (string failure in failures)
        {
            await error.WriteLineAsync($"artgrid devices: {failure}");
        }

        await output.FlushAsync(cancellationToken);
        return failures.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>
    /// The devices named, with cuda:all expanded to every GPU in <paramref name="gpus"/> (a cuda:all with no GPU to
    /// expand to goes to <paramref name="failures"/>); null, with the name in <paramref name="invalid"/>, when a name is
    /// not a device at all.
    /// </summary>
    internal static List<DeviceId>? Expand(IReadOnlyList<string> asked, IReadOnlyList<GpuInfo> gpus, string? whyNoGpus, List<string> failures, out string? invalid)
    {
        invalid = null;
        var targets = new List<DeviceId>();
        foreach (string text in asked)
        {
            if (string.Equals(text.Trim(), "cuda:all", StringComparison.OrdinalIgnoreCase) || string.Equals(text.Trim(), "gpu:all", StringComparison.OrdinalIgnoreCase))
            {
                if (gpus.Count == 0)
                {
                    failures.Add($"{text}: no GPUs to expand it to ({whyNoGpus}).");
                }

                targets.AddRange(gpus.Select(g => new DeviceId(DeviceKind.Cuda, g.Index)));
            }
            else if (DeviceId.TryParse(text, out DeviceId id))
            {
                targets.Add(id);
            }
            else
            {
                invalid = text;
                return null;
            }
        }

        return [.. targets.Distinct()];
    }

    // Loads the model on each device and times it. Returns an exit code when the model or image cannot be loaded at
    // all (nothing to time anywhere), null when every device was tried (its failures added to the list).
    private static async Task<int?> CheckAsync(
        Request request,
        IConfiguration configuration,
        InferenceOptions inference,
        IReadOnlyList<DeviceId> targets,
        TextWriter output,
        TextWriter error,
        List<string> failures,
        CancellationToken cancellationToken)
    {
        LoadedModel model;
        try
        {
            model = new ModelRepository(inference.ModelsPath).Load(inference.Model);
        }
        catch (Exception ex) when (ex is ModelNotFoundException or InvalidDataException or IOException)
        {
            await error.WriteLineAsync($"artgrid devices: {ex.Message}");
            return ExitCodes.Setup;
        }

        PreprocessingOptions preprocessing = configuration.GetSection(PreprocessingOptions.SectionName).Get<PreprocessingOptions>() ?? new PreprocessingOptions();
        (float[]? tensor, string source) = Tensor(request.Image, model, preprocessing);
        if (tensor is null)
        {
            await error.WriteLineAsync($"artgrid devices: {source}");
            return ExitCodes.Usage;
        }

        await output.WriteLineAsync($"model {model.Id}, input {model.Input.Width}x{model.Input.Height} from {source}; batch {request.Batch}, {request.Batches} timed batches after 1 warm-up");
        IReadOnlyList<float[]> inputs = [.. Enumerable.Repeat(tensor, request.Batch)];
        foreach (DeviceId device in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (device.Kind == DeviceKind.Sim)
            {
                await output.WriteLineAsync($"{device}: skipped (a simulated device has no model session to time; its latency is ArtGrid:Inference:Simulated)");
                continue;
            }

            try
            {
                Timing timing = await Task.Run(() => Time(model, device, inference, request, inputs, cancellationToken), cancellationToken);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{device}: batch {request.Batch}, p50 {timing.P50Ms:0.0} ms/batch, {timing.ImagesPerSecond:0.0} images/s (load {timing.LoadMs:0} ms, warm-up {timing.WarmupMs:0} ms, io-binding {(timing.IoBinding ? "on" : "off")}, intra-op threads {inference.EffectiveIntraOpThreads})"));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                string reason = OneLine(ex.Message);
                await output.WriteLineAsync($"{device}: failed: {reason}");
                failures.Add($"{device}: {reason}");
            }
        }

        return null;
    }

    private static Timing Time(LoadedModel model, DeviceId device, InferenceOptions inference, Request request, IReadOnlyList<float[]> inputs, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var session = new OnnxModelSession(model, device.ToString(), inference.EffectiveIntraOpThreads, inference.Cuda, request.UseIoBinding);
        double loadMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        session.Score(inputs);
        double warmupMs = clock.Elapsed.TotalMilliseconds;

        var times = new double[request.Batches];
        var total = Stopwatch.StartNew();
        for (int i = 0; i < times.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            clock.Restart();
            session.Score(inputs);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }

        double seconds = total.Elapsed.TotalSeconds;
        Array.Sort(times);
        double p50 = times.Length % 2 == 1 ? times[times.Length / 2] : (times[(times.Length / 2) - 1] + times[times.Length / 2]) / 2;
        return new Timing(loadMs, warmupMs, p50, inputs.Count * times.Length / Math.Max(seconds, 1e-9), session.UsesIoBinding);
    }

    // The tensor every batch repeats: the image asked for, else the first sample under ./samples, else a blank one.
    private static (float[]? Tensor, string Source) Tensor(string? image, LoadedModel model, PreprocessingOptions preprocessing)
    {
        string? file = image;
        if (file is null && Directory.Exists("samples"))
        {
            file = Directory.EnumerateFiles("samples", "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).FirstOrDefault();
        }

        if (file is null)
        {
            return (new float[model.Input.ElementCount], "a blank tensor (no --image, no samples/*.jpg here)");
        }

        if (!File.Exists(file))
        {
            return (null, $"--image {file}: no such file.");
        }

        PreparedImage prepared = new ImagePreprocessor(Options.Create(preprocessing)).Prepare(File.ReadAllBytes(file), model.Input);
        return prepared.Tensor is { } tensor
            ? (tensor, file)
            : (null, $"{file} does not preprocess: {prepared.Error?.Code}: {prepared.Error?.Message}");
    }

    private static string OrtVersion()
    {
        try
        {
            return Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return "(version unknown)";
        }
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private readonly record struct Timing(double LoadMs, double WarmupMs, double P50Ms, double ImagesPerSecond, bool IoBinding);
}
