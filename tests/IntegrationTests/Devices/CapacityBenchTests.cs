using System.Globalization;
using SixLabors.ImageSharp;

namespace ArtGrid.Tests.Devices;

/// <summary>
/// <c>artgrid-bench capacity</c> as a process, small: real photographs through real decode workers into a simulated GPU.
/// It must finish, print its tables and a last line whose every figure is there and sane, hold the model's arithmetic
/// between them, and decode with the decoder the settings name (here ImageSharp, through the same
/// ArtGrid__Preprocessing__Decoder variable a silo reads), not one of its own. Nothing of time is asserted.
/// </summary>
public sealed class CapacityBenchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-bench-capacity-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 480_000)]
    public async Task ASmallRun_PrintsEveryFigure_WithTheConfiguredDecoder()
    {
        string photos = Path.Combine(_dir, "photos");
        foreach (string sizeClass in new[] { "0.3mp", "2mp", "12mp", "png" })
        {
            Directory.CreateDirectory(Path.Combine(photos, sizeClass));
        }

        // The samples stand in for the size classes (no 12 MP photograph: that class is left out, as an empty folder is).
        foreach (string file in Directory.EnumerateFiles(Path.Combine(TestAssets.SamplesDir, "human"), "*.jpg"))
        {
            File.Copy(file, Path.Combine(photos, "0.3mp", Path.GetFileName(file)));
        }

        foreach (string file in Directory.EnumerateFiles(Path.Combine(TestAssets.SamplesDir, "ai"), "*.jpg"))
        {
            File.Copy(file, Path.Combine(photos, "2mp", Path.GetFileName(file)));
        }

        using (Image photo = await Image.LoadAsync(TestAssets.Photo))
        {
            await photo.SaveAsPngAsync(Path.Combine(photos, "png", "photo.png"));
        }

        string output = Path.Combine(_dir, "out");
        (int exit, string stdout, string stderr) = await BenchProcess.RunAsync(
            ["capacity", "--quick", "--rounds", "1", "--seconds", "1", "--cores", "2", "--gpu-images-per-s", "2000", "--photos", photos, "--out", output],
            new Dictionary<string, string> { ["ArtGrid__Preprocessing__Decoder"] = "ImageSharp" });

        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        foreach (string label in new[] { "0.3 MP JPEG", "2 MP JPEG", "2 MP PNG", "whole mix" })
        {
            Assert.Contains(label, stdout, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("12 MP JPEG", stdout, StringComparison.Ordinal);
        Assert.Contains("every figure for more than 2 cores is extrapolated", stdout, StringComparison.Ordinal);
        Assert.Contains("16 cores: images/s", stdout, StringComparison.Ordinal);

        string last = stdout.TrimEnd().Split('\n')[^1];
        Dictionary<string, string> pairs = last.Split(' ').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        double Figure(string name) => double.Parse(pairs[name], CultureInfo.InvariantCulture);

        Assert.Contains(pairs["bottleneck"], new[] { "decode", "gpu" });
        Assert.Equal("ImageSharp", pairs["decoder"]);
        Assert.Equal(2000, Figure("gpu_images_per_s"));
        Assert.Equal(2, Figure("cores"));
        Assert.Equal(0, Figure("failed"));
        foreach (string name in new[] { "node_images_per_s", "cores_per_gpu", "decode_cpu_ms", "decode_images_per_s_1", "decode_images_per_s_c", "busy_cores",
            "cpu_ms_0_3mp", "cpu_ms_2mp", "cpu_ms_png", "cores_per_gpu_0_3mp", "cores_per_gpu_2mp", "cores_per_gpu_png", "cores_per_gpu_wall" })
        {
            Assert.True(Figure(name) > 0 && double.IsFinite(Figure(name)), $"{name}: {last}");
        }

        foreach (string name in new[] { "efficiency", "efficiency_wall" })
        {
            Assert.InRange(Figure(name), 1e-6, 1);
        }

        // The printed figures hold the model: cores per GPU = R x CPU-ms / 1000 / efficiency (to the rounding printed).
        double model = Figure("gpu_images_per_s") * Figure("decode_cpu_ms") / 1000 / Figure("efficiency");
        Assert.InRange(Figure("cores_per_gpu"), model * 0.98, model * 1.02);
        Assert.True(File.Exists(Path.Combine(output, "bench-capacity.json")), stdout);
    }
}
