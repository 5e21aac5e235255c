using System.Diagnostics;
using System.Text.Json;

namespace ArtGrid.Tests;

/// <summary>The real <c>artgrid</c> program, run as a process on real files.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ScoreWritesOneLinePerImageInInputOrderAndGoesOnPastBadFiles()
    {
        string folder = Path.Combine(_dir, "mixed");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        foreach ((string name, byte[] bytes, _) in TestAssets.BadFiles())
        {
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }

        string[] samples = [.. TestAssets.SampleImages.Take(3)];
        File.Copy(samples[0], Path.Combine(folder, "a-good.jpg"));
        File.Copy(samples[1], Path.Combine(folder, "sub", "b-good.jpg"));
        File.Copy(samples[2], Path.Combine(folder, "z-good.jpg"));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not an image extension: skipped by the folder walk");

        (int exit, string stdout, string stderr) = await RunAsync("score", folder, samples[2]);

        Assert.True(exit == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] expectedOrder =
        [
            "a-good.jpg", "huge-header.png", "real.tiff", "truncated.jpg", "wrong-extension.png", "z-good.jpg", "zero-bytes.jpg",
            Path.Combine("sub", "b-good.jpg"), Path.GetFileName(samples[2]),
        ];
        Assert.Equal(expectedOrder.Length, lines.Length);
        var codes = TestAssets.BadFiles().ToDictionary(f => f.Name, f => f.ExpectedCode);
        for (int i = 0; i < lines.Length; i++)
        {
            using JsonDocument doc = JsonDocument.Parse(lines[i]);
            JsonElement line = doc.RootElement;
            string path = line.GetProperty("path").GetString()!;
            Assert.EndsWith(expectedOrder[i], path);
            Assert.Equal(TestAssets.DefaultModelId, line.GetProperty("model").GetString());
            if (codes.TryGetValue(Path.GetFileName(path), out string? code))
            {
                Assert.Equal(JsonValueKind.Null, line.GetProperty("label").ValueKind);
                Assert.Equal(code, line.GetProperty("error").GetProperty("code").GetString());
                Assert.False(string.IsNullOrEmpty(line.GetProperty("error").GetProperty("message").GetString()));
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, line.GetProperty("error").ValueKind);
                Assert.InRange(line.GetProperty("aiProbability").GetDouble(), 0.0, 1.0);
                Assert.Contains(line.GetProperty("label").GetString(), new[] { "ai", "human", "uncertain" });
                Assert.Equal(64, line.GetProperty("sha256").GetString()!.Length);
            }
        }
    }

    [Fact]
    public async Task AMissingPathIsAUsageErrorAndAMissingModelASetUpError()
    {
        (int exit, string stdout, string stderr) = await RunAsync("score", Path.Combine(_dir, "nowhere"));
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("No such file or folder", stderr);

        (exit, stdout, stderr) = await RunAsync("score", "--model", "no-such-model", TestAssets.Photo);
        Assert.Equal(3, exit);
        Assert.Empty(stdout);
        Assert.Contains("no-such-model", stderr);
    }

    [Fact]
    public async Task ScoreGoesPastFilesThatHangTheDecoder()
    {
        // Four files that send ImageSharp 2.1 into an endless loop, among ordinary images: with ImageSharp as the decoder
        // each costs one worker and a decode_timeout; with the default decoder (Skia) they are scored like the rest.
        string folder = Path.Combine(_dir, "hostile");
        Directory.CreateDirectory(folder);
        for (int size = 1; size <= 4; size++)
        {
            File.WriteAllBytes(Path.Combine(folder, $"hangs-{size}.png"), TestAssets.InterlacedPalettePng(size));
        }

        foreach (string sample in TestAssets.SampleImages.Take(4))
        {
            File.Copy(sample, Path.Combine(folder, Path.GetFileName(sample)));
        }

        var imageSharp = new Dictionary<string, string>
        {
            ["ArtGrid__Preprocessing__Decoder"] = "ImageSharp",
            // Any deadline stops the endless loops; 3 s leaves the ordinary images room on a loaded 2-core machine.
            ["ArtGrid__Preprocessing__Sandbox__Timeout"] = "00:00:03",
        };
        foreach ((IReadOnlyDictionary<string, string> environment, string expectedForHangs) in new[]
        {
            ((IReadOnlyDictionary<string, string>)imageSharp, "decode_timeout"),
            (new Dictionary<string, string>(), "scored"),
        })
        {
            (int exit, string stdout, string stderr) = await RunAsync(environment, "score", folder);
            Assert.True(exit == 0, stderr);
            var outcomes = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l =>
            {
                using JsonDocument doc = JsonDocument.Parse(l);
                JsonElement line = doc.RootElement;
                string outcome = line.GetProperty("error").ValueKind == JsonValueKind.Null ? "scored" : line.GetProperty("error").GetProperty("code").GetString()!;
                return (Name: Path.GetFileName(line.GetProperty("path").GetString()!), Outcome: outcome);
            }).ToList();
            Assert.Equal(8, outcomes.Count);
            Assert.All(outcomes, o => Assert.True(
                (o.Name.StartsWith("hangs-", StringComparison.Ordinal) ? expectedForHangs : "scored") == o.Outcome,
                $"{o.Name}: {o.Outcome}\n{stdout}\n{stderr}"));
        }
    }

    [Fact]
    public async Task AHostKilledInTheMiddleOfADecode_TakesItsDecodeWorkerWithIt()
    {
        // One file that sends ImageSharp 2.1 into an endless loop, under a deadline of ten minutes: the worker is still
        // decoding it when its host, the CLI, is killed (SIGKILL: no shutdown code runs). The worker's reader thread
        // sees its stdin close and ends the worker; nothing else would, since the decode never returns.
        string folder = Path.Combine(_dir, "orphan");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "hangs.png"), TestAssets.InterlacedPalettePng(2));
        using Process cli = Process.Start(Start(
            new Dictionary<string, string>
            {
                ["ArtGrid__Preprocessing__Decoder"] = "ImageSharp",
                ["ArtGrid__Preprocessing__Sandbox__Workers"] = "1",
                ["ArtGrid__Preprocessing__Sandbox__Timeout"] = "00:10:00",
            },
            "score", folder))!;
        Task<string> stderr = cli.StandardError.ReadToEndAsync();
        Task<string> stdout = cli.StandardOutput.ReadToEndAsync();
        int worker = 0;
        try
        {
            // The worker decoding: the CLI's one child, past 8 CPU-seconds. An idle worker waits on its stdin and burns
            // none, and its warm-up takes 2-3.
            await Wait.UntilAsync(() => Cluster.TestProcesses.ChildrenOf(cli.Id) is [var only] && (worker = only) > 0, TimeSpan.FromMinutes(2), "the CLI's decode worker");
            await Wait.UntilAsync(() => Cluster.TestProcesses.CpuSeconds(worker) > 8, TimeSpan.FromMinutes(3), $"worker {worker} decoding (8 CPU-seconds, past its warm-up)", TimeSpan.FromSeconds(1));
            Assert.False(cli.HasExited, "the CLI ended while its worker was decoding");

            cli.Kill(entireProcessTree: false);
            await cli.WaitForExitAsync();
            await Wait.UntilAsync(() => !Cluster.SiloProcess.IsRunning(worker), TimeSpan.FromSeconds(30), $"worker {worker} exiting after its host was killed");
            Assert.Empty(await stdout);
        }
        finally
        {
            if (worker > 0 && Cluster.SiloProcess.IsRunning(worker))
            {
                Process.GetProcessById(worker).Kill();
            }
        }
    }

    [Fact]
    public async Task ScoresFromASimulatedDeviceAreMarkedSimulatedAndRealOnesAreNot()
    {
        var simulated = new Dictionary<string, string> { ["ArtGrid__Inference__Devices__0"] = "sim:0" };

        (int simExit, string simOut, string simErr) = await RunAsync(simulated, "score", TestAssets.Photo);
        (int realExit, string realOut, string realErr) = await RunAsync("score", TestAssets.Photo);

        Assert.True(simExit == 0, simErr);
        Assert.True(realExit == 0, realErr);
        using JsonDocument sim = JsonDocument.Parse(simOut.Trim());
        using JsonDocument real = JsonDocument.Parse(realOut.Trim());
        Assert.True(sim.RootElement.GetProperty("simulated").GetBoolean());
        Assert.False(real.RootElement.TryGetProperty("simulated", out _));
    }

    [Fact]
    public async Task AParseErrorExitsTwoWithItsMessageOnStderrAndNothingOnStdout()
    {
        // One per kind of parse error, across commands: the rule is the program's, not each command's.
        (string[] Args, string Message)[] cases =
        [
            (["score", "--bogus", TestAssets.Photo], "artgrid score: Unrecognized option '--bogus'"),
            (["score", TestAssets.Photo, "--in-flight", "many"], "Cannot parse argument 'many' for option '--in-flight'"),
            (["submit", TestAssets.Photo, "--declared-ai", "maybe"], "Argument 'maybe' not recognized"),
            (["models", "activate", "artgrid-resnet18"], "artgrid models activate: Required argument missing"),
            (["jobs", "get"], "artgrid jobs get: Required argument missing"),
            (["no-such-command"], "artgrid: Unrecognized command or argument 'no-such-command'"),
        ];
        foreach ((string[] args, string message) in cases)
        {
            (int exit, string stdout, string stderr) = await RunAsync(args);
            Assert.True(exit == 2, $"{string.Join(' ', args)}: exit {exit}\n{stderr}");
            Assert.Equal("", stdout);
            Assert.Contains(message, stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ScoreFailOnErrorExitsOneWhenAnImageFailedAfterPrintingEveryLine()
    {
        string folder = Path.Combine(_dir, "with-broken");
        Directory.CreateDirectory(folder);
        byte[] jpeg = File.ReadAllBytes(Path.Combine(TestAssets.ProvenanceSamplesDir, "prov_0001.jpg"));
        File.WriteAllBytes(Path.Combine(folder, "b-truncated.jpg"), jpeg[..(jpeg.Length / 2)]);
        string[] good = [.. TestAssets.SampleImages.Take(2)];
        File.Copy(good[0], Path.Combine(folder, "a-good.jpg"));
        File.Copy(good[1], Path.Combine(folder, "c-good.jpg"));

        (int exit, string stdout, string stderr) = await RunAsync("score", "--fail-on-error", folder);

        Assert.True(exit == 1, $"exit {exit}\n{stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["a-good.jpg", "b-truncated.jpg", "c-good.jpg"], lines.Select(l => Path.GetFileName(l.GetProperty("path").GetString())));
        Assert.Equal(JsonValueKind.Null, lines[0].GetProperty("error").ValueKind);
        Assert.Equal("decode_failed", lines[1].GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, lines[2].GetProperty("error").ValueKind);

        // The same flag where every image is scored: nothing to fail on.
        File.Delete(Path.Combine(folder, "b-truncated.jpg"));
        (exit, stdout, stderr) = await RunAsync("score", "--fail-on-error", folder);
        Assert.True(exit == 0, $"exit {exit}\n{stderr}");
        Assert.Equal(2, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task SubmitRefusesAJobThatBreaksTheClustersRulesBeforeConnectingToAnything()
    {
        // 65 images in one folder make one job over the limit of 64 with --job-per-folder: refused as a usage error
        // before the bus or Redis is tried (neither listens on port 1), so nothing is uploaded.
        string folder = Path.Combine(_dir, "sixty-five");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < 65; i++)
        {
            File.Copy(TestAssets.Photo, Path.Combine(folder, $"{i:000}.jpg"));
        }

        (int exit, string stdout, string stderr) = await RunAsync(
            "submit", folder, "--job-per-folder", "--author", "someone", "--bus", "amqp://guest:guest@127.0.0.1:1/", "--redis", "127.0.0.1:1");

        Assert.True(exit == 2, $"exit {exit}\n{stderr}");
        Assert.Equal("", stdout);
        Assert.Contains("a job needs 1 to 64 images; nothing was sent", stderr, StringComparison.Ordinal);

        // One job per image instead: the same inputs pass the rules and the run goes as far as the bus.
        (exit, stdout, stderr) = await RunAsync(
            "submit", Path.Combine(folder, "000.jpg"), "--url", "https://example.com/a.png", "--bus", "amqp://guest:guest@127.0.0.1:1/", "--redis", "127.0.0.1:1");
        Assert.True(exit == 3, $"exit {exit}\n{stderr}");
        Assert.Contains("cannot reach RabbitMQ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsGetSaysWhenTheGatewayCannotBeReachedOrTheIdCannotBeOne()
    {
        (int exit, string stdout, string stderr) = await RunAsync(
            new Dictionary<string, string> { ["ARTGRID_API_KEY"] = "key-from-the-environment" }, "jobs", "get", "some-job", "--gateway", "http://127.0.0.1:1");
        Assert.Equal(3, exit);
        Assert.Equal("", stdout);
        Assert.Contains("artgrid jobs get: the gateway at http://127.0.0.1:1/ did not answer", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("key-from-the-environment", stderr, StringComparison.Ordinal);

        (exit, stdout, stderr) = await RunAsync("jobs", "get", new string('x', 201), "--gateway", "http://127.0.0.1:1");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains("a job id is 1 to 200 printable characters", stderr, StringComparison.Ordinal);

        // --help names the key's variable but never prints the key.
        (exit, stdout, _) = await RunAsync(new Dictionary<string, string> { ["ARTGRID_API_KEY"] = "key-from-the-environment" }, "jobs", "get", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("ARTGRID_API_KEY", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("key-from-the-environment", stdout, StringComparison.Ordinal);
    }

    internal static Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        RunAsync(new Dictionary<string, string>(), args);

    internal static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using Process process = Process.Start(Start(environment, args))!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        // The CLI as it is built and shipped: its own output folder, models and decode worker beside it.
        start.ArgumentList.Add(Path.Combine(Cluster.SiloProcess.ProjectOutput("Cli"), "artgrid.dll"));
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }

        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
