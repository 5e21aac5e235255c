using System.Diagnostics;
using System.Text.Json;
using ArtGrid.Tests.Cluster;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Deploy;

/// <summary>
/// The container images' publish step without a container runtime: the program each Dockerfile's build stage publishes
/// (<c>RUN deploy/docker/publish.sh PROGRAM /app</c>) is published here by the same script into a temporary folder,
/// once per test run, and started from that folder against the test servers, as the image's entry point starts it.
/// </summary>
public sealed class PublishedPrograms : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("artgrid-publish-").FullName;

    public string Silo => Path.Combine(_root, "silo");

    public string Gateway => Path.Combine(_root, "gateway");

    public string Report { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var report = new List<string>();
        foreach ((string image, string folder) in new[] { ("silo", Silo), ("gateway", Gateway) })
        {
            string program = Dockerfile.PublishedProgram(image);
            var clock = Stopwatch.StartNew();
            (int exit, string stdout, string stderr) = await DeployFiles.RunAsync(
                Path.Combine(DeployFiles.Docker, "publish.sh"), program, folder);
            if (exit != 0)
            {
                throw new InvalidOperationException($"publish.sh {program} failed ({exit}):\n{stdout}\n{stderr}");
            }

            long bytes = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            report.Add($"publish.sh {program} (from {image}.Dockerfile): {clock.Elapsed.TotalSeconds:0} s, {bytes / (1024 * 1024)} MiB");
        }

        Report = string.Join('\n', report);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class PublishedProgramsTests(PublishedPrograms published, ITestOutputHelper output) : IClassFixture<PublishedPrograms>
{
    private readonly string _runId = "d" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public void ThePublishedSiloCarriesItsDecodeWorkerTheModelRepositoryAndTheBackbone()
    {
        output.WriteLine(published.Report);
        foreach (string file in new[] { "artgrid-silo.dll", "artgrid-decode-worker.dll", "artgrid-decode-worker.runtimeconfig.json", "artgrid-decode-worker.deps.json", "appsettings.json", "libonnxruntime.so", "libSkiaSharp.so", Path.Combine("DnnImageModels", "ResNet18Onnx", "ResNet18.onnx") })
        {
            Assert.True(File.Exists(Path.Combine(published.Silo, file)), $"{file} is not in the published silo");
        }

        // The whole model repository, as in the source tree.
        string[] Versions(string root) => [.. Directory.EnumerateFiles(root, "model.json", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order()];
        Assert.Equal(Versions(TestAssets.ModelsDir), Versions(Path.Combine(published.Silo, "models")));
        Assert.NotEmpty(Versions(TestAssets.ModelsDir));
        Assert.True(File.Exists(Path.Combine(published.Gateway, "artgrid-gateway.dll")));
    }

    [Fact]
    public async Task ThePublishedSiloScoresThroughItsOwnDecodeWorkerThePublishedGatewayJoinsItAndTheImageHealthCheckSeesBoth()
    {
        await TestServers.EnsureRunningAsync();
        string queue = $"score-images-{_runId}";
        var settings = new Dictionary<string, string>
        {
            ["ArtGrid__Silo__ClusterId"] = _runId,
            ["ArtGrid__Silo__ServiceId"] = _runId,
            ["ArtGrid__Bus__QueueName"] = queue,
            ["ArtGrid__Preprocessing__Sandbox__Workers"] = "1",
            ["ArtGrid__Silo__Dashboard"] = "false",
        };
        var clock = Stopwatch.StartNew();
        await using SiloProcess silo = await SiloProcess.StartAsync("published-silo", settings, folder: published.Silo);
        output.WriteLine($"published silo ready after {clock.Elapsed.TotalSeconds:0.0} s");

        // The image's HEALTHCHECK command, run against the silo's operations port.
        int port = silo.Http.BaseAddress!.Port;
        Assert.Equal(0, (await HealthCheckAsync(port, "/health/ready")).Exit);
        Assert.Equal(0, (await HealthCheckAsync(port, "/health/live")).Exit);
        Assert.NotEqual(0, (await HealthCheckAsync(port, "/health/no-such-check")).Exit);
        Assert.NotEqual(0, (await HealthCheckAsync(TestPorts.Free(), "/health/ready")).Exit);

        // One image through the bus: decoded by the published folder's worker, scored with its model repository.
        string image = TestAssets.Photo;
        (int exit, string stdout, string stderr) = await DeployFiles.RunAsync(
            "dotnet",
            Path.Combine(SiloProcess.ProjectOutput("Cli"), "artgrid.dll"), "submit", image, "--wait", "--timeout", "120",
            "--bus", TestServers.RabbitMq.ToString(), "--redis", TestServers.Redis, "--queue", queue);
        Assert.True(exit == 0, $"artgrid submit: {exit} {stderr}\n{silo.Log}");
        using JsonDocument line = JsonDocument.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single());
        Assert.Equal(JsonValueKind.Null, line.RootElement.GetProperty("error").ValueKind);
        Assert.Equal(TestAssets.DefaultModelId, line.RootElement.GetProperty("model").GetString());
        Assert.InRange(line.RootElement.GetProperty("aiProbability").GetDouble(), 0, 1);
        Assert.Contains(Path.Combine(published.Silo, "artgrid-decode-worker.dll"), DecodeWorkerCommandLines());

        // The published gateway, in the silo's cluster (it opens its port once its Orleans client has found a silo).
        clock.Restart();
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(settings, null, folder: published.Gateway);
        output.WriteLine($"published gateway ready after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(0, (await HealthCheckAsync(gateway.Address.Port, "/health/ready")).Exit);
        Assert.Equal(0, (await HealthCheckAsync(gateway.Address.Port, "/health/live")).Exit);
    }

    private static Task<(int Exit, string Stdout, string Stderr)> HealthCheckAsync(int port, string path) =>
        DeployFiles.RunAsync("bash", Path.Combine(DeployFiles.Docker, "healthcheck.sh"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), path);

    /// <summary>The command lines of every running decode worker on this machine.</summary>
    private static string DecodeWorkerCommandLines() => string.Join('\n', Directory.EnumerateDirectories("/proc")
        .Select(dir => Path.Combine(dir, "cmdline"))
        .Select(file =>
        {
            try
            {
                return File.ReadAllText(file).Replace('\0', ' ');
            }
            catch (IOException)
            {
                return "";
            }
            catch (UnauthorizedAccessException)
            {
                return "";
            }
        })
        .Where(cmd => cmd.Contains("artgrid-decode-worker", StringComparison.Ordinal)));
}
