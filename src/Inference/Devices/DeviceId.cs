namespace ArtGrid.Inference.Devices;

/// <summary>What executes a device's batches.</summary>
public enum DeviceKind
{
    /// <summary>A CPU slot: an ONNX Runtime session on the CPU execution provider.</summary>
    Cpu,

    /// <summary>GPU N: an ONNX Runtime session on the CUDA execution provider (Microsoft.ML.OnnxRuntime.Gpu builds).</summary>
    Cuda,

    /// <summary>A simulated GPU: batch latency a + b*n, deterministic outputs marked as simulated (scheduling tests and benchmarks).</summary>
    Sim,
}

/// <summary>One device of a silo: "cpu:N", "cuda:N" or "sim:N".</summary>
public readonly record struct DeviceId(DeviceKind Kind, int Index)
{
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}:{Index}";

    public static DeviceId Parse(string text) =>
        TryParse(text, out DeviceId id)
            ? id
            : throw new FormatException($"Device '{text}' is not cpu:N, cuda:N or sim:N (N a number from 0).");

    public static bool TryParse(string? text, out DeviceId id)
    {
        id = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
        {
            return false;
        }

        DeviceKind? kind = text[..colon].Trim().ToLowerInvariant() switch
        {
            "cpu" => DeviceKind.Cpu,
            "cuda" or "gpu" => DeviceKind.Cuda,
            "sim" => DeviceKind.Sim,
            _ => null,
        };
        if (kind is null)
        {
            return false;
        }

        id = new DeviceId(kind.Value, index);
        return true;
    }
}
