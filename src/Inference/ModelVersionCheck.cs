namespace ArtGrid.Inference;

/// <summary>
/// Proves a model version usable before the cluster switches to it, without touching the silo's shared sessions: a
/// version folder, a <c>model.json</c> that names the same model and version (results report that id), the head, the
/// backbone, and one trial run through both. Every failure is a <see cref="ModelVersionException"/> that says why.
/// </summary>
public static class ModelVersionCheck
{
    /// <summary>Model names and versions are folder names: letters, digits, '.', '_' and '-', not starting with '.'.</summary>
    public static bool IsValidSegment(string? segment) =>
        segment is { Length: > 0 and <= 100 } && segment[0] != '.' && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>The version's files: folder, <c>model.json</c> (naming this model and version), head and backbone path.</summary>
    public static LoadedModel Load(ModelRepository repository, string name, string version)
    {
        string model = $"{name}/{version}";
        if (!IsValidSegment(name) || !IsValidSegment(version))
        {
            throw new ModelVersionException(model, ModelVersionException.BadName,
                $"'{model}' is not NAME/VERSION: each part is 1 to 100 letters, digits, '.', '_' or '-', not starting with '.'.");
        }

        string directory;
        try
        {
            directory = repository.ResolveDirectory(model);
        }
        catch (ModelNotFoundException ex)
        {
            throw new ModelVersionException(model, ModelVersionException.NotFound, ex.Message);
        }

        LoadedModel loaded;
        try
        {
            loaded = ModelRepository.LoadDirectory(directory);
        }
        catch (Exception ex)
        {
            throw Invalid(model, ex);
        }

        if (loaded.Config.Name != name || loaded.Config.Version != version)
        {
            throw new ModelVersionException(model, ModelVersionException.Invalid,
                $"{Path.Combine(directory, ModelRepository.ConfigFile)} names '{loaded.Id}'; its name and version must be its folders' ('{model}').");
        }

        return loaded;
    }

    /// <summary><see cref="Load"/>, then a session on <paramref name="device"/> scores one blank input through the whole model (backbone, and head where it has one).</summary>
    public static LoadedModel Run(ModelRepository repository, string name, string version, string device, int intraOpThreads)
    {
        LoadedModel loaded = Load(repository, name, version);
        try
        {
            using var session = new OnnxModelSession(loaded, device, intraOpThreads);
            double probability = session.Score([new float[session.Input.ElementCount]])[0].AiProbability;
            if (!double.IsFinite(probability))
            {
                throw new InvalidDataException($"the trial run's probability is {probability}.");
            }
        }
        catch (Exception ex)
        {
            throw Invalid(loaded.Id, ex);
        }

        return loaded;
    }

    private static ModelVersionException Invalid(string model, Exception ex) =>
        new(model, ModelVersionException.Invalid, $"Model '{model}' does not load: {ex.Message}");
}
