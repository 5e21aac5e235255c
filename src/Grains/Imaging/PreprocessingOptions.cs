using System.ComponentModel.DataAnnotations;
using ArtGrid.Grains.Imaging.Decoding;

namespace ArtGrid.Grains.Imaging;

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

    /// <summary>Upper bound of the decoder's pooled memory, in megabytes.</summary>
    [Range(1, 4096)]
    public int MaxPoolMegabytes { get; set; } = 256;

    /// <summary>
    /// Look for the Stable Diffusion invisible watermark in the decoded pixels (before resizing). Costs one pass over
    /// the chroma planes of the full-size image.
    /// </summary>
    public bool DetectWatermark { get; set; } = true;

    /// <summary>The library that decodes pixels. See docs/DECODERS.md for why the default is what it is.</summary>
    public DecoderKind Decoder { get; set; } = DecoderKind.Skia;

    /// <summary>
    /// Where decoding runs: in supervised worker processes (the default; a hostile file costs one worker, never the
    /// host) or in this process (trusted batch jobs and tests).
    /// </summary>
    public DecodeIsolation Isolation { get; set; } = DecodeIsolation.Sandbox;

    /// <summary>Threads one resize may use; unset uses every core. Sandbox workers use 1: there is one worker per core.</summary>
    [Range(1, 1024)]
    public int? MaxDegreeOfParallelism { get; set; }
}

public enum DecodeIsolation
{
    Sandbox,
    InProcess,
}
