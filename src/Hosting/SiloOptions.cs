using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Hosting;

public sealed class SiloOptions
{
    public const string SectionName = "ArtGrid:Silo";

    /// <summary>Silo-to-silo port; 0 picks a free one (embedded mode).</summary>
    [Range(0, 65535)]
    public int SiloPort { get; set; }

    /// <summary>Client gateway port; 0 picks a free one (embedded mode).</summary>
    [Range(0, 65535)]
    public int GatewayPort { get; set; }

    /// <summary>The silo's name in logs and membership (cluster mode); the machine's name when unset.</summary>
    public string? Name { get; set; }

    /// <summary>The address other silos and clients reach this one at (cluster mode).</summary>
    [Required]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    public string ClusterId { get; set; } = "artgrid";

    public string ServiceId { get; set; } = "artgrid";
}
