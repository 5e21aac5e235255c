using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Hosting;

public sealed class SiloOptions
{
    public const string SectionName = "ArtGrid:Silo";

    /// <summary>The default of <see cref="HttpPort"/>: beside the gateway's 8080.</summary>
    public const int DefaultHttpPort = 8081;

    /// <summary>Silo-to-silo port; 0 picks a free one (embedded mode).</summary>
    [Range(0, 65535)]
    public int SiloPort { get; set; }

    /// <summary>Client gateway port; 0 picks a free one (embedded mode).</summary>
    [Range(0, 65535)]
    public int GatewayPort { get; set; }

    /// <summary>
    /// The port of the silo's operations listener (<c>/health/live</c>, <c>/health/ready</c>, <c>/metrics</c>) in
    /// <c>artgrid-silo</c>. A fixed port, never a free one picked at start: scripts and scrapers must know where to look.
    /// The embedded mode of the command line opens no listener and ignores it.
    /// </summary>
    [Range(1, 65535)]
    public int HttpPort { get; set; } = DefaultHttpPort;

    /// <summary>
    /// The address the operations listener binds; unset, the <see cref="ListenAddress"/>, else the advertised address.
    /// "0.0.0.0" listens on every interface.
    /// </summary>
    [IpAddress]
    public string? HttpAddress { get; set; }

    /// <summary>The silo's name in logs and membership (cluster mode); the machine's name when unset.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// The address other silos and clients reach this one at (cluster mode). Unset, the silo finds it at start: the
    /// address of its own interface that routes to the Redis server, so 127.0.0.1 when Redis runs on loopback and the
    /// address on the cluster's network otherwise (<see cref="SiloAddresses"/>). In Kubernetes, the pod's IP.
    /// </summary>
    [IpAddress]
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// Where the silo-to-silo and client gateway ports listen; unset, the advertised address only (and every interface
    /// under <see cref="Kubernetes"/>). "0.0.0.0" listens on every interface, as a container must.
    /// </summary>
    [IpAddress]
    public string? ListenAddress { get; set; }

    /// <summary>
    /// Orleans' Kubernetes hosting (cluster mode): the silo takes its name from the pod (POD_NAME), advertises the
    /// pod's IP (POD_IP, unless <see cref="AdvertisedAddress"/> is set), listens on every interface, and watches the
    /// pods of its namespace (POD_NAMESPACE) so that a silo whose pod is gone leaves the membership at once. Needs a
    /// service account allowed to get, list, watch and delete pods there.
    /// </summary>
    public bool Kubernetes { get; set; }

    /// <summary>
    /// The cores this silo sizes its CPU pools from (decode workers, ONNX Runtime intra-op threads: <see cref="SiloCores"/>);
    /// unset, every core the process sees (a container's CPU limit included). Silos that share a machine should each be
    /// given their share, the machine's cores divided by the silos on it, as <c>deploy/local-cluster.sh</c> does;
    /// otherwise each starts pools for the whole machine and they fight over its cores. Read by the command line's
    /// embedded silo too.
    /// </summary>
    [Range(1, 1024)]
    public int? Cores { get; set; }

    public string ClusterId { get; set; } = "artgrid";

    public string ServiceId { get; set; } = "artgrid";

    /// <summary>
    /// Runs the Orleans Dashboard's silo side (cluster mode): the grains the gateway's <c>/dashboard</c> reads, and a
    /// profiler on every grain call. Off, the silo skips that per-call cost and the dashboard has nothing to show.
    /// </summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>
    /// How long the silo may take to drain and leave on SIGTERM (<c>HostOptions.ShutdownTimeout</c>; how it is spent:
    /// <see cref="GracefulShutdown"/>). An orchestrator's grace period (Kubernetes' terminationGracePeriodSeconds) must be longer.
    /// </summary>
    [Range(1, 3600)]
    public int ShutdownSeconds { get; set; } = 60;
}

/// <summary>An IPv4 or IPv6 address in text (no host names: listeners bind addresses). Null passes; pair with <see cref="RequiredAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class IpAddressAttribute : ValidationAttribute
{
    public IpAddressAttribute()
        : base("The field {0} must be an IP address, such as 127.0.0.1 or 0.0.0.0.")
    {
    }

    public override bool IsValid(object? value) =>
        value is null || (value is string text && System.Net.IPAddress.TryParse(text, out _));
}
