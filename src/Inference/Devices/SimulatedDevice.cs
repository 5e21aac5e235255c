using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ArtGrid.Inference.Devices;

/// <summary>
/// A simulated GPU: a batch of n blocks its caller for a + b*n (<see cref="SimulatedDeviceOptions"/>), as a synchronous
/// GPU run does, and answers a deterministic probability per tensor (a hash of its values), so that routing and
/// batching can be driven at GPU rates on a machine without one. Every answer is marked simulated and none is cached.
/// The wait is slept to the millisecond; what the sleep overshoots is paid back on later batches, so that the device's
/// rate over many batches is the configured one and not the host scheduler's.
/// </summary>
public sealed class SimulatedDevice(int inputLength, SimulatedDeviceOptions options)
{
    private double _debtMs;

    public int InputLength { get; } = inputLength;

    /// <summary>The time one batch of <paramref name="count"/> takes.</summary>
    public TimeSpan BatchTime(int count) => TimeSpan.FromMilliseconds(options.BaseMs + (options.PerImageMs * count));

    public ModelScore[] Score(IReadOnlyList<float[]> inputs)
    {
        long start = Stopwatch.GetTimestamp();
        var scores = new ModelScore[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Length != InputLength)
            {
                throw new ArgumentException($"Tensor {i} of the batch has {inputs[i].Length} values; the model takes {InputLength}.", nameof(inputs));
            }

            scores[i] = new ModelScore(Probability(inputs[i]), null);
        }

        double intended = BatchTime(inputs.Count).TotalMilliseconds;
        double sleep = intended - _debtMs - Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (sleep >= 0.5)
        {
            Thread.Sleep((int)Math.Round(sleep));
        }

        // Positive debt: this batch ran longer than intended (a late wake-up), so the next ones sleep less; negative
        // debt (a sleep rounded down) makes them sleep more.
        _debtMs = Math.Clamp(_debtMs + Stopwatch.GetElapsedTime(start).TotalMilliseconds - intended, -intended, intended);
        return scores;
    }

    /// <summary>A value in (0, 1) that depends only on the tensor's values.</summary>
    public static double Probability(float[] tensor)
    {
        ulong hash = 14695981039346656037UL;
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<float, uint>(tensor.AsSpan());
        int step = Math.Max(1, words.Length / 2048);
        for (int i = 0; i < words.Length; i += step)
        {
            hash = (hash ^ words[i]) * 1099511628211UL;
        }

        return ((hash >> 11) + 0.5) / (1UL << 53);
    }
}
