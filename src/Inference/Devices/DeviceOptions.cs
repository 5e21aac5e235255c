using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Inference.Devices;

/// <summary>
/// Session options for "cuda:N" devices ("ArtGrid:Inference:Cuda"). They take effect only in a build with the CUDA
/// execution provider (Microsoft.ML.OnnxRuntime.Gpu: <c>-p:ArtGridGpu=true</c>); see docs/GPU.md.
/// </summary>
public sealed class CudaOptions
{
    /// <summary>Most GPU memory ONNX Runtime's arena may take per device, in MiB; 0 leaves it unbounded.</summary>
    [Range(0, 1 << 24)]
    public int MemoryLimitMib { get; set; }

    /// <summary>cuDNN convolution algorithm search: "Exhaustive" (best kernels, slow first run per shape), "Heuristic" or "Default".</summary>
    [Required]
    public string ConvAlgoSearch { get; set; } = "Exhaustive";

    /// <summary>
    /// Run batches through an IOBinding: the input bound from the batch buffer (pinned in place for the call), every
    /// output bound to CPU memory so that ONNX Runtime copies each result off the GPU once. Off by default: it gives
    /// the same scores as the plain path (tested on CPU), but whether it is faster has not been measured on a GPU yet.
    /// </summary>
    public bool UseIoBinding { get; set; }
}

/// <summary>
/// "sim:N" devices ("ArtGrid:Inference:Simulated"): a batch of n takes <see cref="BaseMs"/> + <see cref="PerImageMs"/> * n.
/// The defaults are of the order NVIDIA publishes for ResNet-50 inference on an inference-class GPU (a T4 in FP16:
/// a few ms for one image, around 2,000 images/s at large batches): 2 ms + 0.5 ms per image, so one simulated device
/// serves 32 / 18 ms ≈ 1,780 images/s at batch 32 and 500 images/s one image at a time. Real figures vary with the
/// GPU, precision and runtime; measure yours with deploy/gpu-check.sh and set these to match.
/// </summary>
public sealed class SimulatedDeviceOptions
{
    /// <summary>Fixed cost of one batch (kernel launches, copies), in ms: the "a" of a + b*n.</summary>
    [Range(0, 10_000)]
    public double BaseMs { get; set; } = 2.0;

    /// <summary>Cost of each image in a batch, in ms: the "b" of a + b*n.</summary>
    [Range(0, 10_000)]
    public double PerImageMs { get; set; } = 0.5;

    /// <summary>Images per second one simulated device serves at batch size <paramref name="batch"/>.</summary>
    public double Capacity(int batch) => batch / ((BaseMs + (PerImageMs * batch)) / 1000.0);
}
