using ArtGrid.Abstractions;

namespace ArtGrid.Cli.Commands;

/// <summary>
/// Scores files through the cluster (one job per file) with a bounded number in flight, and hands the results
/// back strictly in input order as they become available.
/// </summary>
public sealed class EmbeddedScorer(IGrainFactory grains, int maxInFlight)
{
    public async Task RunAsync(
        IReadOnlyList<string> files,
        Func<int, ImageScore, Task> onResultInOrder,
        CancellationToken cancellationToken = default)
    {
        string run = Guid.NewGuid().ToString("N")[..12];
        var done = new ImageScore?[files.Count];
        var completions = new TaskCompletionSource[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            completions[i] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        using var slots = new SemaphoreSlim(Math.Max(1, maxInFlight));
        Task producer = Task.Run(async () =>
        {
            var running = new List<Task>();
            for (int i = 0; i < files.Count; i++)
            {
                await slots.WaitAsync(cancellationToken);
                int index = i;
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        done[index] = await ScoreOneAsync($"cli-{run}-{index}", files[index], cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        done[index] = new ImageScore(0, files[index], null, null, null, "", new ImageError(ErrorCodes.InferenceFailed, ex.Message), false, null);
                    }
                    finally
                    {
                        slots.Release();
                        completions[index].TrySetResult();
                    }
                }, cancellationToken));
            }

            await Task.WhenAll(running);
        }, cancellationToken);

        for (int i = 0; i < files.Count; i++)
        {
            await completions[i].Task.WaitAsync(cancellationToken);
            await onResultInOrder(i, done[i]!);
            done[i] = null;
        }

        await producer;
    }

    private async Task<ImageScore> ScoreOneAsync(string jobId, string path, CancellationToken cancellationToken)
    {
        var job = new ScoreJob(jobId, [ImageRef.FromFile(Path.GetFullPath(path))], JobMetadata.None);
        JobVerdict verdict = await grains.GetGrain<IJobGrain>(jobId).ScoreAsync(job, cancellationToken);
        return verdict.Images[0];
    }
}
