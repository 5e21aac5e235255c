using System.Globalization;

namespace ArtGrid.Tests;

/// <summary>
/// <c>artgrid-bench --quick</c> as a process where Debian's vipsthumbnail and djpeg are not on the PATH: it must leave
/// the comparison with them out and say how to get them, still run and print the other parts, and write its plots beside
/// its raw numbers, changing no tracked file (docs/benchmarks/ is refreshed only with --update-docs). One round of
/// part 2 on a small photograph folder; nothing of time is asserted.
/// </summary>
public sealed class QuickSuiteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-bench-quick-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task WithoutTheDebianTools_PartOneIsLeftOutWithTheFix_TheRestRuns_AndNoTrackedFileChanges()
    {
        string photos = Path.Combine(_dir, "photos");
        foreach (string sizeClass in new[] { "0.3mp", "2mp", "12mp", "png" })
        {
            Directory.CreateDirectory(Path.Combine(photos, sizeClass));
        }

        foreach (string sizeClass in new[] { "0.3mp", "2mp", "12mp" })
        {
            File.Copy(TestAssets.Photo, Path.Combine(photos, sizeClass, "photo.jpg"));
        }

        string docs = Path.Combine(TestAssets.RepositoryRoot, "docs", "benchmarks");
        Dictionary<string, DateTime> before = Directory.GetFiles(docs).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        string output = Path.Combine(_dir, "out");

        // A PATH that holds the dotnet host alone: no vipsthumbnail, djpeg or vips, wherever the test runs (the host's
        // own folder will not do: it is /usr/bin where Debian's package installs it, beside the tools).
        string path = Directory.CreateDirectory(Path.Combine(_dir, "path")).FullName;
        string dotnet = BenchProcess.DotnetPath();
        File.CreateSymbolicLink(Path.Combine(path, "dotnet"), new FileInfo(dotnet).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dotnet);
        (int exit, string stdout, string stderr) = await BenchProcess.RunAsync(
            ["--quick", "--parts", "1,2", "--rounds", "1", "--photos", photos, "--out", output],
            new Dictionary<string, string> { ["PATH"] = path });

        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Contains("part 1 (preprocessing against libvips and libjpeg-turbo) is left out", stderr, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y libvips-tools libjpeg-turbo-progs", stderr, StringComparison.Ordinal);
        string last = stdout.TrimEnd().Split('\n')[^1];
        Dictionary<string, string> pairs = last.Split(' ').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.True(double.Parse(pairs["inference_ratio"], CultureInfo.InvariantCulture) > 0, last);
        Assert.False(pairs.ContainsKey("decode_vs_libvips"), last);

        Assert.True(File.Exists(Path.Combine(output, "plots", "inference.png")), stdout);
        Assert.True(File.Exists(Path.Combine(output, "bench-quick.json")), stdout);
        Assert.Equal(before, Directory.GetFiles(docs).ToDictionary(f => f, File.GetLastWriteTimeUtc));
    }
}
