using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Imaging.Sandbox;

/// <summary>The decode worker pool ("ArtGrid:Preprocessing:Sandbox"), used when preprocessing isolation is Sandbox.</summary>
public sealed class DecodeSandboxOptions
{
    public const string SectionName = "ArtGrid:Preprocessing:Sandbox";

    /// <summary>
    /// Worker processes; unset means one per core (per core of its share when the host is given one, "ArtGrid:Silo:Cores").
    /// Each decodes one image at a time.
    /// </summary>
    [Range(1, 256)]
    public int? Workers { get; set; }

    /// <summary>Time one image may take, header to resized pixels, before its worker is killed (<c>decode_timeout</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Added to <see cref="Timeout"/> per megapixel the header declares (after the pixel cap has passed it), so that a
    /// large photograph is not mistaken for a hang.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan TimeoutPerMegapixel { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Resident memory a worker may reach while decoding before it is killed (<c>decode_memory_limit</c>).</summary>
    [Range(64, 1024 * 1024)]
    public int MemoryLimitMegabytes { get; set; } = 1024;

    /// <summary>
    /// A worker is replaced after this many images, so that whatever a decoder leaks or corrupts does not last. A
    /// replacement costs about a second of CPU (start and warm-up), hence not too often. A worker is also replaced as
    /// soon as, between images, it has used more than half its headroom (the ceiling less what it held when it started),
    /// before a leak makes an innocent image fail.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int RecycleAfter { get; set; } = 10_000;

    /// <summary>
    /// Times an image is tried again on a fresh worker after its worker died for no reason the supervisor gave (a crash,
    /// the kernel's OOM killer). A file that kills its decoder every time gets <c>decoder_crashed</c>.
    /// </summary>
    [Range(0, 5)]
    public int CrashRetries { get; set; } = 1;

    /// <summary>Time a new worker has to start and report ready.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often resident memory and the deadline are checked while an image is decoding.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:01")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The worker program; unset means <c>artgrid-decode-worker.dll</c> beside the host's own assemblies.</summary>
    public string? WorkerPath { get; set; }

    public int WorkerCount => Workers ?? Environment.ProcessorCount;

    public long MemoryLimitBytes => (long)MemoryLimitMegabytes * 1024 * 1024;
}
