using ArtGrid.GrainInterfaces;
using ArtGrid.Grains;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;
using Microsoft.Extensions.Options;

namespace ArtGrid.Hosting.Embedded;

/// <summary>
/// Scores files through the embedded silo's <see cref="ImageScorer"/> (decode sandbox, device router, batcher) and the
/// verdict policy, with a bounded number in flight, and hands the results back strictly in input order as they become
/// available. No job grain and no per-image state: memory stays flat in the number of files, however many a run has.
/// </summary>
public sealed class EmbeddedScorer(ImageScorer scorer, ActiveVersions activeVersions, IOptions<VerdictOptions> verdict, int maxInFlight)
{
    /// <summary>Hears each image's latency (from its start to its score, whatever the order of output); benchmarks time with it.</summary>
    public Action<TimeSpan>? OnScored { get; init; }

    /// <summary>Hands each result the image as it was scored, from the same decode (for drawing activation maps).</summary>
    public bool KeepOrientedImages { get; init; }

    public Task RunAsync(IReadOnlyList<string> files, Func<int, ImageScore, Task> onResultInOrder, CancellationToken cancellationToken = default) =>
        RunScoredAsync(files, (index, scored) => onResultInOrder(index, scored.Score), cancellationToken);

    /// <summary>
    /// Scores <paramref name="files"/>; each result reaches <paramref name="onResultInOrder"/> in input order, with the
    /// image as it was scored when <see cref="KeepOrientedImages"/> is set.
    /// </summary>
    public async Task RunScoredAsync(
        IReadOnlyList<string> files,
        Func<int, ScoredImage, Task> onResultInOrder,
        CancellationToken cancellationToken = default)
    {
        // One version for the whole run, as one job has: a switch while it runs changes nothing for it.
        string modelId = await activeVersions.ModelIdAsync(activeVersions.ScoringModel, cancellationToken);
        var done = new ScoredImage?[files.Count];
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
                        done[index] = await ScoreOneAsync(files[index], modelId, cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        done[index] = new ScoredImage(new ImageScore(0, files[index], null, null, null, modelId, new ImageError(ErrorCodes.InferenceFailed, ex.Message), false, null), null);
                    }
                    finally
                    {
                        // A kept image is megabytes: its slot frees only once it is handed on, so that images
                        // finished behind a slow one never pile up beyond the number in flight.
                        if (!KeepOrientedImages)
                        {
                            slots.Release();
                        }

                        completions[index].TrySetResult();
                    }
                }, cancellationToken));
                running.RemoveAll(t => t.IsCompleted);
            }

            await Task.WhenAll(running);
        }, cancellationToken);

        for (int i = 0; i < files.Count; i++)
        {
            await completions[i].Task.WaitAsync(cancellationToken);
            await onResultInOrder(i, done[i]!);
            if (KeepOrientedImages)
            {
                slots.Release();
            }

            done[i] = null;
        }

        await producer;
    }

    private async Task<ScoredImage> ScoreOneAsync(string path, string modelId, CancellationToken cancellationToken)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        ScoredImage scored = await scorer.ScoreAsync(0, ImageRef.FromFile(Path.GetFullPath(path)), modelId, KeepOrientedImages, cancellationToken);
        ScoredImage merged = scored with { Score = VerdictPolicy.MergeImage(scored.Score, JobMetadata.None, verdict.Value) };
        OnScored?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(start));
        return merged;
    }
}
