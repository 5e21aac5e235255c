using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Silo.Extensions;

public sealed class SiloOptions
{
    public const string SectionName = "ArtGrid:Silo";

    /// <summary>Silo-to-silo port; 0 picks a free one (embedded mode).</summary>
    [Range(0, 65535)]
    public int SiloPort { get; set; }

    /// <summary>Client gateway port; 0 picks a free one (embedded mode).</summary>
    [Range(0, 65535)]
    public int GatewayPort { get; set; }

    public string ClusterId { get; set; } = "artgrid";

    public string ServiceId { get; set; } = "artgrid";
}
