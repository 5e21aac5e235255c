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

    /// <summary>
    /// Time one image may take, from sending its bytes to the resized pixels, before its worker is killed
    /// (<c>decode_timeout</c>); <see cref="TimeoutPerMegabyte"/> and <see cref="TimeoutPerMegapixel"/> add to it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Added to <see cref="Timeout"/> per megapixel the header declares (after the pixel cap has passed it), so that a
    /// large photograph is not mistaken for a hang.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan TimeoutPerMegapixel { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Added to <see cref="Timeout"/> per megabyte (MiB) of the file, from the start: the bytes must cross the pipe and
    /// be walked for their metadata whatever the pixels, so that a small image carrying tens of megabytes of metadata
    /// is not mistaken for a hang. Sized in docs/DECODERS.md, <i>Files of many bytes and few pixels</i>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan TimeoutPerMegabyte { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>The deadline before the header is read: <see cref="Timeout"/> and the allowance for the file's bytes.</summary>
    public TimeSpan DeadlineFor(long bytes) => Timeout + (TimeoutPerMegabyte * (bytes / (1024.0 * 1024)));

    /// <summary>The deadline once the header has declared width x height: the pixels' allowance added.</summary>
    public TimeSpan DeadlineFor(long bytes, int width, int height) => DeadlineFor(bytes) + (TimeoutPerMegapixel * ((double)width * height / 1e6));

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

    /// <summary>
    /// How much of the kernel's confinement each worker must get (<see cref="WorkerConfinement"/>: Landlock, then
    /// seccomp): BestEffort (what the kernel offers, with a warning for what it does not), Required (a worker that cannot
    /// be confined does not start), Off.
    /// </summary>
    public ConfinementMode Confinement { get; set; } = ConfinementMode.BestEffort;

    /// <summary>The worker program; unset means <c>artgrid-decode-worker.dll</c> beside the host's own assemblies.</summary>
    public string? WorkerPath { get; set; }

    public int WorkerCount => Workers ?? Environment.ProcessorCount;

    public long MemoryLimitBytes => (long)MemoryLimitMegabytes * 1024 * 1024;

    /// <summary>
    /// The kernel's hard cap on a worker, where it gets a memory cgroup (<see cref="WorkerMemoryCgroup"/>): a quarter
    /// above the poll's ceiling, so that the poll answers ordinary blow-ups and the cgroup those faster than a poll (it
    /// also counts the page cache and kernel memory the poll does not see).
    /// </summary>
    public long MemoryCapBytes => MemoryLimitBytes / 4 * 5;
}
