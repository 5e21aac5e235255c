using Orleans.Concurrency;

namespace ArtGrid.Abstractions;

/// <summary>
/// The cluster-wide record of which version of one model (keyed by the model's name) is active: the version every
/// silo scores new jobs with. Kept in grain storage, so that a switch survives restarts; it starts as the version that
/// configuration names. Switching never restarts a silo: each silo reads the active version again within its refresh
/// interval.
/// </summary>
public interface IModelCatalogGrain : IGrainWithStringKey
{
    /// <summary>The active version. Interleaves with a switch in progress (which answers the old one until it is stored).</summary>
    [AlwaysInterleave]
    Task<ActiveModelVersion> GetActiveAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes <paramref name="version"/> active once it has loaded on this grain's silo (model.json, head, backbone and a
    /// trial run). Throws <see cref="ModelVersionException"/> and leaves the active version as it was when it does not.
    /// </summary>
    Task<ActiveModelVersion> ActivateAsync(string version, CancellationToken cancellationToken = default);
}

/// <summary>The model repository as the silos see it: the versions on disk and the active one, for each model.</summary>
public interface IModelRepositoryGrain : IGrainWithIntegerKey
{
    Task<IReadOnlyList<ModelListing>> ListAsync(CancellationToken cancellationToken = default);
}

/// <summary>The version of a model that the cluster scores with, and since when.</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ActiveModelVersion")]
public sealed record ActiveModelVersion(
    [property: Id(0)] string Name,
    [property: Id(1)] string Version,
    [property: Id(2)] DateTimeOffset ActivatedAt)
{
    /// <summary>"name/version", as image scores and verdicts report it.</summary>
    public string ModelId => $"{Name}/{Version}";
}

/// <summary>One model of the repository: its versions on disk (oldest first) and the active one (null when none resolves).</summary>
[GenerateSerializer, Immutable, Alias("artgrid.ModelListing")]
public sealed record ModelListing(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<string> Versions,
    [property: Id(2)] ActiveModelVersion? Active,
    [property: Id(3)] string? Problem = null);

/// <summary>A model version that cannot be made active: it is not in the repository, or it does not load.</summary>
[GenerateSerializer, Alias("artgrid.ModelVersionException")]
public sealed class ModelVersionException : Exception
{
    /// <summary>The name or version is not a plain folder name.</summary>
    public const string BadName = "bad_name";

    /// <summary>No such model or version in the repository.</summary>
    public const string NotFound = "not_found";

    /// <summary>The version is there but does not load (bad model.json or head, missing backbone, failed trial run).</summary>
    public const string Invalid = "invalid";

    public ModelVersionException(string model, string code, string message)
        : base(message)
    {
        Model = model;
        Code = code;
    }

    /// <summary>"name/version" (or the name alone) that was asked for.</summary>
    [Id(0)]
    public string Model { get; }

    /// <summary><see cref="BadName"/>, <see cref="NotFound"/> or <see cref="Invalid"/>.</summary>
    [Id(1)]
    public string Code { get; }
}
