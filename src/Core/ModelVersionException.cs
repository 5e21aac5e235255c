namespace ArtGrid;

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
