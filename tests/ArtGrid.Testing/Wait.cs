using System.Diagnostics;

namespace ArtGrid.Tests;

/// <summary>Waiting on something observable (a count, a process, a queue), never on a fixed sleep.</summary>
public static class Wait
{
    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; throws <see cref="TimeoutException"/> with
    /// <paramref name="failure"/> and the time waited once <paramref name="timeout"/> has passed.
    /// </summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string failure = "condition not met", TimeSpan? poll = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed >= timeout)
            {
                throw new TimeoutException($"{failure} within {timeout.TotalSeconds:0.#} s");
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(20));
        }
    }
}
