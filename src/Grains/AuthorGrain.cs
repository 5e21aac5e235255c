using ArtGrid.GrainInterfaces;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace ArtGrid.Grains;

/// <summary>
/// An author's counts (grain storage "authors": memory when embedded, Redis in the cluster). They are forgotten
/// <see cref="AuthorOptions.Expiry"/> after the author's last job: Redis drops the key then, and an activation that
/// outlives it (kept by reads) starts over as well rather than write back what Redis has forgotten.
/// </summary>
public sealed class AuthorGrain(
    [PersistentState("author", AuthorGrain.StorageName)] IPersistentState<AuthorState> state,
    IOptions<AuthorOptions> options,
    TimeProvider time) : Grain, IAuthorGrain
{
    public const string StorageName = "authors";

    /// <summary>How many recent job ids are remembered to recognise a replay; older replays would count again.</summary>
    public const int RecentJobs = 64;

    /// <summary>The grain key of an author: trimmed, lower-cased, at most 200 characters.</summary>
    public static string KeyOf(string author) => AuthorKey.Of(author);

    public async Task<AuthorContext> RecordAsync(string jobId, string? label, bool? declaredAi, bool conflict, CancellationToken cancellationToken = default)
    {
        await ForgetIfExpiredAsync(cancellationToken);
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
        counts.LastJobAt = time.GetUtcNow();
        counts.Recent.Enqueue(jobId);
        while (counts.Recent.Count > RecentJobs)
        {
            counts.Recent.Dequeue();
        }

        await state.WriteStateAsync(cancellationToken);
        return Context();
    }

    public async Task<AuthorContext> GetAsync(CancellationToken cancellationToken = default)
    {
        await ForgetIfExpiredAsync(cancellationToken);
        return Context();
    }

    // The Redis key's time to live starts when a job's write reaches Redis, a little after LastJobAt: once this
    // activation sees the expiry passed, Redis has dropped the key (or is about to). Reading again takes the ETag of
    // what storage holds now, so the next write succeeds either way; counts still there (memory storage, or a key
    // Redis has not dropped yet) are left behind all the same.
    private async Task ForgetIfExpiredAsync(CancellationToken cancellationToken)
    {
        if (state.State.LastJobAt is not { } last || time.GetUtcNow() - last < options.Value.StorageExpiry)
        {
            return;
        }

        await state.ReadStateAsync(cancellationToken);
        if (state.State.LastJobAt is { } stored && time.GetUtcNow() - stored >= options.Value.StorageExpiry)
        {
            state.State = new AuthorState();
        }
    }

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

    /// <summary>When the author's last job was counted; null in state written before expiry existed.</summary>
    [Id(5)]
    public DateTimeOffset? LastJobAt { get; set; }
}
