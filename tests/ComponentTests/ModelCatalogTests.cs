using ArtGrid.GrainInterfaces;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests;

/// <summary>What a model version must pass before it becomes active, how long a session lives, and the catalog itself.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ModelCatalogTests(ClusterFixture fixture) : IDisposable
{
    private const string Name = TestModelRepository.Name;
    private readonly string _root = Directory.CreateTempSubdirectory("artgrid-versions-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void AVersionIsCheckedFromItsFolderToATrialRun()
    {
        TestModelRepository.CopyVersion(_root, "2", TestModelRepository.Negated);
        TestModelRepository.BrokenVersion(_root, "3");
        TestModelRepository.CopyVersion(_root, "4", named: "1");
        var repository = new ModelRepository(_root);
        Assert.Equal(new[] { Name }, repository.Names());
        Assert.Equal(new[] { "2", "3", "4" }, repository.Versions(Name));

        Assert.Equal($"{Name}/2", ModelVersionCheck.Run(repository, Name, "2", "cpu:0", intraOpThreads: 1).Id);
        Refused(ModelVersionException.NotFound, $"has no {ModelRepository.ConfigFile}", () => ModelVersionCheck.Run(repository, Name, "5", "cpu:0", 1));
        Refused(ModelVersionException.NotFound, "is not in the model repository", () => ModelVersionCheck.Run(repository, "other", "1", "cpu:0", 1));
        Refused(ModelVersionException.Invalid, $"'{Name}/3' does not load", () => ModelVersionCheck.Run(repository, Name, "3", "cpu:0", 1));
        Refused(ModelVersionException.Invalid, $"names '{Name}/1'", () => ModelVersionCheck.Run(repository, Name, "4", "cpu:0", 1));
        Refused(ModelVersionException.BadName, "is not NAME/VERSION", () => ModelVersionCheck.Run(repository, Name, "../2", "cpu:0", 1));
        Refused(ModelVersionException.BadName, "is not NAME/VERSION", () => ModelVersionCheck.Run(repository, "..", "2", "cpu:0", 1));
    }

    [Fact]
    public void ASessionLivesWhileItHasUsers_AndAFailedLoadIsNotRemembered()
    {
        const string model = $"{Name}/1";
        using var sessions = new ModelSessions(new ModelRepository(TestAssets.ModelsDir), Options.Create(new InferenceOptions { IntraOpThreads = 1 }));
        OnnxModelSession first = sessions.AcquireSession(model, "cpu:0");
        Assert.Same(first, sessions.AcquireSession(model, "cpu:0"));
        sessions.ReleaseSession(model, "cpu:0");
        Assert.Equal(new[] { $"{model}@cpu:0" }, sessions.LoadedSessions);
        sessions.ReleaseSession(model, "cpu:0");
        Assert.Empty(sessions.LoadedSessions);

        OnnxModelSession second = sessions.AcquireSession(model, "cpu:0");
        Assert.NotSame(first, second);
        sessions.ReleaseSession(model, "cpu:0");
        Assert.Empty(sessions.LoadedSessions);

        // A version that is not there yet fails, and loads once it is.
        var growing = new ModelSessions(new ModelRepository(_root), Options.Create(new InferenceOptions { IntraOpThreads = 1 }));
        Assert.Throws<ModelNotFoundException>(() => growing.AcquireSession($"{Name}/7", "cpu:0"));
        Assert.Empty(growing.LoadedSessions);
        TestModelRepository.CopyVersion(_root, "7");
        growing.AcquireSession($"{Name}/7", "cpu:0");
        Assert.Equal(new[] { $"{Name}/7@cpu:0" }, growing.LoadedSessions);
        growing.Dispose();
    }

    [Fact]
    public async Task TheCatalogStartsOnTheConfiguredVersion_AndRefusingAVersionChangesNothing()
    {
        IModelCatalogGrain catalog = fixture.Grains.GetGrain<IModelCatalogGrain>(Name);
        ActiveModelVersion active = await catalog.GetActiveAsync();
        Assert.Equal(TestAssets.DefaultModelId, active.ModelId); // the configured "artgrid-resnet18": its newest version

        ModelVersionException refused = await Assert.ThrowsAsync<ModelVersionException>(() => catalog.ActivateAsync("99"));
        Assert.Equal(ModelVersionException.NotFound, refused.Code);
        Assert.Equal(active, await catalog.GetActiveAsync());
        Assert.Equal(active, await catalog.ActivateAsync(active.Version));

        ModelListing listing = (await fixture.Grains.GetGrain<IModelRepositoryGrain>(0).ListAsync()).Single(m => m.Name == Name);
        Assert.Equal(active, listing.Active);
        Assert.Equal(["1", "2", "3"], listing.Versions);
    }

    private static void Refused(string code, string reason, Action check)
    {
        ModelVersionException refused = Assert.Throws<ModelVersionException>(check);
        Assert.Equal(code, refused.Code);
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }
}
