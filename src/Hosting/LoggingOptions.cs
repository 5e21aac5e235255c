using System.ComponentModel.DataAnnotations;

namespace ArtGrid.Hosting;

/// <summary>How a host writes its logs ("ArtGrid:Logging"). Levels stay where .NET keeps them ("Logging:LogLevel").</summary>
public sealed class LoggingOptions
{
    public const string SectionName = "ArtGrid:Logging";

    /// <summary>
    /// <see cref="LogFormat.Text"/>: one line per entry, for people. <see cref="LogFormat.Json"/>: one JSON object per
    /// line with a UTC timestamp, the scopes (the job id of a job's work) and the trace and span ids of the current
    /// activity, for a log pipeline to index and join with traces.
    /// </summary>
    [EnumDataType(typeof(LogFormat))]
    public LogFormat Format { get; set; } = LogFormat.Text;
}

public enum LogFormat
{
    Text,
    Json,
}
