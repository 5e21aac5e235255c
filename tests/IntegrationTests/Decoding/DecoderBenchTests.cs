using System.Diagnostics;

namespace ArtGrid.Tests.Decoding;

/// <summary>
/// <c>artgrid-bench decoders</c> as a process, on a four-file corpus whose right answers the test knows: the
/// decoder table must count them as the sandbox saw them, and the last line must carry the figures.
/// </summary>
public sealed class DecoderBenchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 300_000)]
    public async Task TheDecoderBenchCountsHangsAndRefusalsPerDecoder()
    {
        string corpus = Path.Combine(_dir, "corpus");
        Directory.CreateDirectory(Path.Combine(corpus, "made"));
        byte[] photo = File.ReadAllBytes(TestAssets.Photo);
        (string Name, byte[] Bytes, string Expected)[] files =
        [
            ("hangs-imagesharp.png", TestAssets.InterlacedPalettePng(2), "decode"),
            ("sixteen-bit.png", TestAssets.SixteenBitPngInTinyChunks(colour: true), "decode"),
            ("truncated.jpg", photo[..(photo.Length / 2)], "reject"),
            ("photo.jpg", photo, "decode"),
        ];
        foreach ((string name, byte[] bytes, _) in files)
        {
            File.WriteAllBytes(Path.Combine(corpus, "made", name), bytes);
        }

        File.WriteAllLines(Path.Combine(corpus, "manifest.csv"), ["path,suite,expected,source", .. files.Select(f => $"made/{f.Name},made,{f.Expected},tests")]);

        (int exit, string stdout, string stderr) = await BenchProcess.RunAsync(
            "decoders", "--corpus", corpus, "--images", TestAssets.SamplesDir, "--limit", "4", "--skip-sandbox", "--out", Path.Combine(_dir, "out"));

        Assert.True(exit == 0, stderr + stdout);
        string last = stdout.TrimEnd().Split('\n')[^1];
        var pairs = last.Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("4/4", pairs["turbojpeg_correct"]);
        Assert.Equal("4/4", pairs["skia_correct"]);
        Assert.Equal("0", pairs["skia_hangs"]);
        Assert.Equal("2/4", pairs["imagesharp_correct"]); // hangs on one, refuses the valid 16-bit PNG
        Assert.Equal("1", pairs["imagesharp_hangs"]);
        Assert.True(double.Parse(pairs["decode_ms_skia"], System.Globalization.CultureInfo.InvariantCulture) > 0);
        string[] csv = File.ReadAllLines(Path.Combine(_dir, "out", "decoders-corpus.csv"));
        // Columns: TurboJpeg (the default; a PNG goes to Skia), Skia, ImageSharp.
        Assert.Contains("made/hangs-imagesharp.png,made,decode,decoded,decoded,decode_timeout", csv);
        Assert.Contains("made/truncated.jpg,made,reject,decode_failed,decode_failed,decode_failed", csv);
    }
}
