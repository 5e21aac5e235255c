using ArtGrid.GrainInterfaces;
using ArtGrid.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace ArtGrid.Grains.Models;

/// <summary>
/// The active version of one model, keyed by the model's name, in grain storage "models" (memory when embedded, Redis
/// in the cluster, no expiry). On its first activation in a cluster it stores the version configuration names
/// (<see cref="InferenceOptions.Model"/> "name/version", or the newest version on disk); from then on only
/// <see cref="ActivateAsync"/> changes it. Switches are serialised (the grain is not reentrant); reads interleave with
/// them and see the old version until the new one is stored.
/// </summary>
public sealed partial class ModelCatalogGrain(
    [PersistentState("model", ModelCatalogGrain.StorageName)] IPersistentState<ModelCatalogState> state,
    ModelRepository repository,
    IOptions<InferenceOptions> options,
    TimeProvider time,
    ILogger<ModelCatalogGrain> logger) : Grain, IModelCatalogGrain
{
    public const string StorageName = "models";

    // What readers see: changed only once storage has the new version, so that nobody scores with a version whose
    // switch was not acknowledged.
    private ActiveModelVersion? _active;
    private ModelVersionException? _noInitialVersion;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _active = state.State.Active;
        if (_active is not null)
        {
            return;
        }

        string name = this.GetPrimaryKeyString();
        try
        {
            string version = await Task.Run(() => InitialVersion(name), cancellationToken);
            var initial = new ActiveModelVersion(name, version, time.GetUtcNow());
            state.State = new ModelCatalogState { Active = initial };
            await state.WriteStateAsync(cancellationToken);
            _active = initial;
            LogInitial(initial.ModelId);
        }
        catch (ModelVersionException ex)
        {
            // Not fatal: a version can still be activated explicitly.
            _noInitialVersion = ex;
            LogNoInitialVersion(name, ex.Message);
        }
    }

    public Task<ActiveModelVersion> GetActiveAsync(CancellationToken cancellationToken = default) =>
        _active is { } active
            ? Task.FromResult(active)
            : Task.FromException<ActiveModelVersion>(new ModelVersionException(
                this.GetPrimaryKeyString(),
                _noInitialVersion?.Code ?? ModelVersionException.NotFound,
                $"{_noInitialVersion?.Message} Activate a version of '{this.GetPrimaryKeyString()}' explicitly (PUT /models/{{name}}/active)."));

    public async Task<ActiveModelVersion> ActivateAsync(string version, CancellationToken cancellationToken = default)
    {
        string name = this.GetPrimaryKeyString();
        version = version?.Trim() ?? "";
        if (_active?.Version == version)
        {
            return _active;
        }

        InferenceOptions settings = options.Value;
        // On the CPU whatever devices this silo serves: the check proves the files, and a GPU's memory stays for serving.
        await Task.Run(() => ModelVersionCheck.Run(repository, name, version, "cpu:0", settings.EffectiveIntraOpThreads), cancellationToken);
        var activated = new ActiveModelVersion(name, version, time.GetUtcNow());
        ModelCatalogState previous = state.State;
        state.State = new ModelCatalogState { Active = activated };
        try
        {
            await state.WriteStateAsync(cancellationToken);
        }
        catch
        {
            state.State = previous;
            throw;
        }

        LogActivated(activated.ModelId, _active?.ModelId ?? "none");
        _active = activated;
        return activated;
    }

    // The configured version when configuration names this model with a version, else the newest on disk; its files
    // must load (a full trial run is left to the silos, which load it anyway).
    private string InitialVersion(string name)
    {
        string[] configured = options.Value.Model.Split('/', 2, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string version = configured.Length == 2 && configured[0] == name ? configured[1] : Newest(name);
        ModelVersionCheck.Load(repository, name, version);
        return version;
    }

    private string Newest(string name)
    {
        if (!ModelVersionCheck.IsValidSegment(name))
        {
            throw new ModelVersionException(name, ModelVersionException.BadName, $"'{name}' is not a model name (a folder name of the model repository).");
        }

        try
        {
            return Path.GetFileName(repository.ResolveDirectory(name));
        }
        catch (ModelNotFoundException ex)
        {
            throw new ModelVersionException(name, ModelVersionException.NotFound, ex.Message);
        }
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Model catalog: {Model} is active (from configuration)")]
    private partial void LogInitial(string model);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Model catalog: no initial version of {Name}: {Reason}")]
    private partial void LogNoInitialVersion(string name, string reason);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Model catalog: {Model} is active (was {Previous})")]
    private partial void LogActivated(string model, string previous);
}
