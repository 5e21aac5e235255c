using System.Runtime.InteropServices;
using ArtGrid.Fuzz;
using SharpFuzz;

// ArtGrid.Fuzz TARGET                     one target under afl-fuzz (fuzz/run.sh): the input on standard input
// ArtGrid.Fuzz TARGET --replay FILE...    the target once per file, saying what each did (exit 1 on any finding)
// ArtGrid.Fuzz --seeds FOLDER FILE...     each target's seed corpus under FOLDER/TARGET, from the repository's files
if (args is ["--seeds", string folder, .. string[] files])
{
    UseOwnCoverageMap();
    int written = Seeds.Write(folder, files);
    Console.WriteLine($"wrote {written} seeds under {folder}");
    return 0;
}

if (args.Length == 0 || !Targets.All.TryGetValue(args[0], out Action<byte[]>? target))
{
    Console.Error.WriteLine($"usage: ArtGrid.Fuzz {{{string.Join('|', Targets.All.Keys)}}} [--replay FILE...] | --seeds FOLDER FILE...");
    return 2;
}

if (args is [_, "--replay", .. string[] inputs])
{
    UseOwnCoverageMap();
    int findings = 0;
    foreach (string input in inputs)
    {
        try
        {
            target(File.ReadAllBytes(input));
            Console.WriteLine($"ok       {input}");
        }
        catch (Exception ex)
        {
            findings++;
            Console.WriteLine($"FINDING  {input}: {ex}");
        }
    }

    return findings == 0 ? 0 : 1;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;

// Instrumented code records each branch in SharpFuzz's coverage map, which only afl-fuzz provides; run outside it (a
// replay, the seed writer) it gets a map of its own that nobody reads.
static unsafe void UseOwnCoverageMap()
{
    if (SharpFuzz.Common.Trace.SharedMem == null)
    {
        SharpFuzz.Common.Trace.SharedMem = (byte*)NativeMemory.AllocZeroed(1 << 16);
    }
}
