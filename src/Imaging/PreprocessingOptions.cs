using System.ComponentModel.DataAnnotations;
using ArtGrid.Imaging.Decoding;

namespace ArtGrid.Imaging;

/// <summary>Limits that protect the decoder from hostile or absurd inputs.</summary>
public sealed class PreprocessingOptions
{
    public const string SectionName = "ArtGrid:Preprocessing";

    /// <summary>Largest accepted file, in bytes.</summary>
    [Range(1, int.MaxValue)]
    public int MaxBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Largest accepted width x height, read from the header before any pixel is decoded.</summary>
    [Range(1, long.MaxValue)]
    public long MaxPixels { get; set; } = 60_000_000;

    /// <summary>
    /// Upper bound of the decoder's pooled memory, in megabytes: half for ImageSharp's pool of small buffers, half for
    /// whole large images (8 MB and up) kept for the next image (<see cref="LargeBufferAllocator"/>). Per decode worker.
    /// </summary>
    [Range(1, 4096)]
    public int MaxPoolMegabytes { get; set; } = 256;

    /// <summary>
    /// Look for the Stable Diffusion invisible watermark in the decoded pixels (before resizing). Costs one pass over
    /// the chroma planes of the full-size image.
    /// </summary>
    public bool DetectWatermark { get; set; } = true;

    /// <summary>
    /// Decode large JPEGs at a reduced size (libjpeg-turbo's DCT scaling by k/8; TurboJpeg and Skia decoders only), the
    /// smallest whose both sides stay at least twice the model's input side, before the same bicubic resize. Much faster
    /// for photographs, but the pixels differ slightly from the full-size decode the model was trained on, and the
    /// watermark check is skipped for such images (the DWT-DCT mark does not survive the reduction). See
    /// docs/DECODERS.md for the measured drift.
    /// </summary>
    public bool ReducedJpegDecode { get; set; } = true;

    /// <summary>
    /// Reduced decoding applies only to JPEGs of more than this many pixels; smaller ones (the sizes generators write,
    /// where the watermark check matters) are decoded at full size.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long ReducedDecodeMinPixels { get; set; } = 4_200_000;

    /// <summary>
    /// The library that decodes pixels: TurboJpeg (the system's SIMD libjpeg-turbo for JPEG, Skia for the rest; Skia alone
    /// where libturbojpeg0 is not installed), Skia or ImageSharp. See docs/DECODERS.md for why the default is what it is.
    /// </summary>
    public DecoderKind Decoder { get; set; } = DecoderKind.TurboJpeg;

    /// <summary>
    /// Where decoding runs: in supervised worker processes (the default; a hostile file costs one worker, never the
    /// host) or in this process (trusted batch jobs and tests).
    /// </summary>
    public DecodeIsolation Isolation { get; set; } = DecodeIsolation.Sandbox;

    /// <summary>
    /// Trust anchors for C2PA signers: a PEM file of root (or issuing) certificates, or a folder of
    /// <c>.pem</c>/<c>.crt</c>/<c>.cer</c> files. Unset: the C2PA trust list that ships with ArtGrid
    /// (<see cref="Provenance.C2paTrustList.ShippedPath"/>). "none" or empty: no anchors; claim signatures and hashes are
    /// still checked, but no claim is "verified" ("unverified (trust list not configured)"), so none decides a verdict.
    /// A path that holds no certificate stops the decoder from starting.
    /// </summary>
    public string? C2paTrustAnchors { get; set; }

    /// <summary>Threads one resize may use; unset uses every core. Sandbox workers use 1: there is one worker per core.</summary>
    [Range(1, 1024)]
    public int? MaxDegreeOfParallelism { get; set; }
}

public enum DecodeIsolation
{
    Sandbox,
    InProcess,
}
