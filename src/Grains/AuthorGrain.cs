using ArtGrid.GrainInterfaces;
using Orleans.Runtime;

namespace ArtGrid.Grains;

/// <summary>An author's counts (grain storage "authors": memory when embedded, Redis in the cluster).</summary>
public sealed class AuthorGrain([PersistentState("author", AuthorGrain.StorageName)] IPersistentState<AuthorState> state) : Grain, IAuthorGrain
{
    public const string StorageName = "authors";

    /// <summary>How many recent job ids are remembered to recognise a replay; older replays would count again.</summary>
    public const int RecentJobs = 64;

    /// <summary>The grain key of an author: trimmed, lower-cased, at most 200 characters.</summary>
    public static string KeyOf(string author) => AuthorKey.Of(author);

    public async Task<AuthorContext> RecordAsync(string jobId, string? label, bool? declaredAi, bool conflict, CancellationToken cancellationToken = default)
    {
        AuthorState counts = state.State;
        if (counts.Recent.Contains(jobId))
        {
            return Context();
        }

        counts.Jobs++;
        if (label == Labels.Ai)
        {
            counts.AiVerdicts++;
            counts.UndeclaredAi += declaredAi == true ? 0 : 1;
        }

        counts.Conflicts += conflict ? 1 : 0;
        counts.Recent.Enqueue(jobId);
        while (counts.Recent.Count > RecentJobs)
        {
            counts.Recent.Dequeue();
        }

        await state.WriteStateAsync(cancellationToken);
        return Context();
    }

    public Task<AuthorContext> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(Context());

    private AuthorContext Context() =>
        new(this.GetPrimaryKeyString(), state.State.Jobs, state.State.AiVerdicts, state.State.UndeclaredAi, state.State.Conflicts);
}

[GenerateSerializer, Alias("artgrid.AuthorState")]
public sealed class AuthorState
{
    [Id(0)]
    public long Jobs { get; set; }

    [Id(1)]
    public long AiVerdicts { get; set; }

    [Id(2)]
    public long UndeclaredAi { get; set; }

    [Id(3)]
    public long Conflicts { get; set; }

    [Id(4)]
    public Queue<string> Recent { get; set; } = new();
}
