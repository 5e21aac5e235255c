namespace ArtGrid.Hosting;

/// <summary>
/// The CPU pools of a silo, sized from the cores it may use: <see cref="SiloOptions.Cores"/> when set (silos that share a
/// machine each take their share: <c>deploy/local-cluster.sh</c> gives each of N silos cores / N), else every core the
/// process sees (<see cref="Environment.ProcessorCount"/>, which already honours a container's CPU limit). From them, one
/// decode worker per core and half as many ONNX Runtime intra-op threads, at least one (the decode workers take the
/// other half), unless <c>ArtGrid:Preprocessing:Sandbox:Workers</c> or <c>ArtGrid:Inference:IntraOpThreads</c> say
/// otherwise. Two silos on two cores that each sized themselves from both cores ran four decode workers and two ONNX
/// Runtime threads where the work had room for half (docs/BENCHMARKS.md, <i>Bus against embedded</i>).
/// </summary>
/// <param name="Cores">The cores the silo sizes its pools from.</param>
/// <param name="DecodeWorkers">Decode worker processes.</param>
/// <param name="IntraOpThreads">ONNX Runtime intra-op threads per CPU session.</param>
public readonly record struct SiloCores(int Cores, int DecodeWorkers, int IntraOpThreads)
{
    /// <summary>
    /// The pools of a silo given <paramref name="cores"/> ("ArtGrid:Silo:Cores", null when unset) on a machine whose
    /// process sees <paramref name="processorCount"/> cores; <paramref name="workers"/> (null: unset) and
    /// <paramref name="intraOpThreads"/> (0: unset) are the pools' own settings, which win when set. A share larger than
    /// the cores the process sees is cut to them.
    /// </summary>
    public static SiloCores Of(int? cores, int processorCount, int? workers, int intraOpThreads)
    {
        int share = Math.Clamp(cores ?? processorCount, 1, Math.Max(1, processorCount));
        return new SiloCores(share, workers ?? share, intraOpThreads > 0 ? intraOpThreads : Math.Max(1, share / 2));
    }
}
