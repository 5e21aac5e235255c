namespace ArtGrid.Hosting;

/// <summary>How a silo runs: alone in this process with its state in memory, or as a member of a cluster.</summary>
public enum SiloMode
{
    /// <summary>One localhost silo, in-memory cache and state, no bus: <c>artgrid score</c>, tests, benchmarks.</summary>
    Embedded,

    /// <summary>Redis clustering, grain state and result cache in Redis, jobs from RabbitMQ.</summary>
    Cluster,
}
