namespace ArtGrid.Bench;

// The queue bench's part interface, until bench/QueueBench.cs brings the real one: what every part of
// `artgrid-bench queue` is handed, and the silos it shares.

/// <summary>What every part of <c>artgrid-bench queue</c> is handed.</summary>
internal sealed record QueueBenchContext(
    BenchCluster Cluster,
    string SiloDll,
    string Redis,
    Uri Amqp,
    IReadOnlyList<string> Images,
    string OutDir,
    bool Quick,
    int Silos);

/// <summary>The silos the parts share.</summary>
internal static class QueueBench
{
    /// <summary>Starts <see cref="QueueBenchContext.Silos"/> silos unless they already run.</summary>
    public static async Task EnsureSilosAsync(QueueBenchContext context, CancellationToken cancellationToken)
    {
        if (context.Cluster.Silos.Count == 0)
        {
            await context.Cluster.StartSilosAsync(context.SiloDll, context.Silos, cancellationToken);
        }
    }
}
