using System.Globalization;
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace ArtGrid.Grains;

/// <summary>
/// Places the shares of a job (<see cref="ImageShareGrain"/>, keyed "{job id}/{share number}") on the cluster's silos in
/// turn, starting from a silo picked by the job id: a job's shares spread over every silo, whatever the silos'
/// published load says at that moment (which lags by seconds: activation-count placement put every share of a job on
/// one silo when measured).
/// </summary>
[Serializable, GenerateSerializer, Immutable, Alias("artgrid.SharePlacement")]
public sealed class SharePlacement : PlacementStrategy
{
    internal static SharePlacement Singleton { get; } = new();
}

/// <summary>Marks a grain class as a job's share, spread by <see cref="SharePlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SharePlacementAttribute() : PlacementAttribute(SharePlacement.Singleton);

/// <summary>Share n of a job goes to the compatible silo (in address order) at (the job id's hash + n) modulo their number.</summary>
public sealed class SharePlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        SiloAddress[] silos = [.. context.GetCompatibleSilos(target).OrderBy(s => s.ToString(), StringComparer.Ordinal)];
        if (silos.Length == 0)
        {
            throw new OrleansException($"No silo can host {target.GrainIdentity}.");
        }

        (string job, int number) = Parse(target.GrainIdentity.Key.ToString() ?? "");
        return Task.FromResult(silos[(int)((Fnv1a(job) + (uint)number) % (uint)silos.Length)]);
    }

    /// <summary>"{job id}/{share number}"; a key without a number is share 0 of a job named by the whole key.</summary>
    internal static (string Job, int Number) Parse(string key)
    {
        int slash = key.LastIndexOf('/');
        return slash >= 0 && int.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number >= 0
            ? (key[..slash], number)
            : (key, 0);
    }

    // A hash that is the same in every process (string.GetHashCode is randomised per process).
    private static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }
}
