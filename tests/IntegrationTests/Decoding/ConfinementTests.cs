using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ArtGrid.Imaging;
using ArtGrid.Imaging.Decoding;
using ArtGrid.Imaging.Sandbox;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Decoding;

/// <summary>
/// The decode worker's confinement by the kernel (Landlock, seccomp; Linux 5.13 or later, as CI runs): the worker
/// program tries what code smuggled into a decoder would try (a TCP connection and a datagram to a listener of this
/// test, a file written outside anything it owns, a program started), confined and, for contrast, with
/// Confinement=Off; and workers the sandbox starts are confined, keep none of the host's secrets, and still decode.
/// </summary>
public sealed class ConfinementTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("artgrid-confinement-").FullName;

    [Fact(Timeout = 120_000)]
    public async Task AConfinedWorker_CannotConnect_SendADatagram_WriteAFile_OrStartAProgram()
    {
        using var targets = new Targets(_folder);
        (int exit, JsonElement report) = await CheckAsync("Required", targets);

        Assert.Equal(0, exit);
        Assert.StartsWith("Landlock ABI", report.GetProperty("landlock").GetString());
        Assert.StartsWith("seccomp: ", report.GetProperty("seccomp").GetString());
        JsonElement outcomes = report.GetProperty("outcomes");
        foreach (string attempt in new[] { "connect", "udp", "write", "exec" })
        {
            Assert.StartsWith("refused", outcomes.GetProperty(attempt).GetString());
        }

        // What the worker says is what happened: nothing reached the listeners, no file exists.
        Assert.False(targets.Tcp.Pending(), "a connection reached the test's listener");
        Assert.Equal(0, targets.Udp.Available);
        Assert.False(File.Exists(targets.Outside), "the confined worker wrote a file");
    }

    [Fact(Timeout = 120_000)]
    public async Task TheSameAttempts_Unconfined_GetThrough()
    {
        using var targets = new Targets(_folder);
        (int exit, JsonElement report) = await CheckAsync("Off", targets);

        Assert.Equal(1, exit);
        JsonElement outcomes = report.GetProperty("outcomes");
        foreach (string attempt in new[] { "connect", "udp", "write", "exec" })
        {
            Assert.Equal("allowed", outcomes.GetProperty(attempt).GetString());
        }

        Assert.True(targets.Tcp.Pending(), "the unconfined worker's connection did not arrive");
        Assert.True(targets.Udp.Available > 0, "the unconfined worker's datagram did not arrive");
        Assert.Equal("written from inside a decode worker\n", await File.ReadAllTextAsync(targets.Outside));
    }

    [Fact(Timeout = 120_000)]
    public async Task WorkersTheSandboxStarts_AreConfined_KeepNoSecretOfTheHost_AndDecodeAsInProcess()
    {
        const string secret = "ARTGRID_CONFINEMENT_TEST_SECRET";
        Environment.SetEnvironmentVariable(secret, "a connection string with a password");
        await using DecodeSandbox sandbox = await DecodeSandboxTests.StartAsync(DecoderKind.Skia, o =>
        {
            o.Workers = 2;
            o.Confinement = ConfinementMode.Required;
        });
        output.WriteLine(sandbox.Confinement);
        Assert.True(WorkerConfinement.IsComplete(sandbox.Confinement), sandbox.Confinement);

        foreach (int pid in sandbox.WorkerProcessIds)
        {
            string status = await File.ReadAllTextAsync($"/proc/{pid}/status");
            Assert.Contains("NoNewPrivs:\t1", status, StringComparison.Ordinal);
            Assert.Contains("Seccomp:\t2", status, StringComparison.Ordinal); // a filter
            string environment = await File.ReadAllTextAsync($"/proc/{pid}/environ");
            Assert.DoesNotContain(secret, environment, StringComparison.Ordinal);
            Assert.Contains(WorkerConfinement.ConfinedVariable, environment, StringComparison.Ordinal);
        }

        var trusted = new ImagePreprocessor(Options.Create(new PreprocessingOptions { Decoder = DecoderKind.Skia }));
        foreach (string file in TestAssets.SampleImages.Append(TestAssets.Photo))
        {
            byte[] bytes = await File.ReadAllBytesAsync(file);
            PreparedImage confined = await sandbox.PrepareAsync(bytes, TestAssets.RawPixels);
            Assert.Null(confined.Error);
            Assert.Equal(trusted.Prepare(bytes, TestAssets.RawPixels).Tensor, confined.Tensor);
        }

        Assert.Equal(0, sandbox.Restarts);
    }

    [MemoryCgroupFact(Timeout = 120_000)]
    public async Task EachWorker_HasAMemoryCgroupOfItsOwn_WhoseCapTheKernelEnforces()
    {
        await using DecodeSandbox sandbox = await DecodeSandboxTests.StartAsync(DecoderKind.Skia, o =>
        {
            o.Workers = 1;
            o.MemoryLimitMegabytes = 160;
            o.PollInterval = TimeSpan.FromSeconds(1); // the poll too slow to see the decode: the kernel's cap acts
        });
        Assert.Contains("memory cgroup v1: hard cap 200 MiB", sandbox.Confinement, StringComparison.Ordinal);
        int pid = sandbox.WorkerProcessIds.Single();
        string cgroup = (await File.ReadAllLinesAsync($"/proc/{pid}/cgroup")).Select(l => l.Split(':', 3)).Single(p => p[1] == "memory")[2];
        string folder = "/sys/fs/cgroup/memory" + cgroup;
        Assert.Contains($"artgrid-decode-{Environment.ProcessId}-{pid}", cgroup, StringComparison.Ordinal);
        Assert.Equal(200L * 1024 * 1024, long.Parse((await File.ReadAllTextAsync(Path.Combine(folder, "memory.limit_in_bytes"))).Trim(), System.Globalization.CultureInfo.InvariantCulture));

        // 8000 x 7000 grey: a few kilobytes on disk, 224 MB of pixels once decoded, over the cap.
        PreparedImage big = await sandbox.PrepareAsync(TestAssets.FlatGreyPng(8000, 7000), TestAssets.RawPixels);
        output.WriteLine(big.Error?.Message);
        Assert.Equal(ErrorCodes.DecodeMemoryLimit, big.Error?.Code);
        Assert.Contains("kernel", big.Error!.Message, StringComparison.Ordinal);

        PreparedImage next = await sandbox.PrepareAsync(await File.ReadAllBytesAsync(TestAssets.Photo), TestAssets.RawPixels);
        Assert.Null(next.Error);
        await Wait.UntilAsync(() => !Directory.Exists(folder), TimeSpan.FromSeconds(30), $"{folder} was not removed after its worker ended");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>What a worker is asked to reach: a TCP and a UDP listener of the test's on one port, a file path.</summary>
    private sealed class Targets : IDisposable
    {
        public Targets(string folder)
        {
            Tcp = new TcpListener(IPAddress.Loopback, 0);
            Tcp.Start();
            Endpoint = (IPEndPoint)Tcp.LocalEndpoint;
            Udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, Endpoint.Port));
            Outside = Path.Combine(folder, "written-by-the-worker.txt");
        }

        public TcpListener Tcp { get; }

        public UdpClient Udp { get; }

        public IPEndPoint Endpoint { get; }

        public string Outside { get; }

        public void Dispose()
        {
            Tcp.Dispose();
            Udp.Dispose();
        }
    }

    /// <summary>Skips, saying why, where the host gives no writable memory cgroup: hybrid hosts (cgroup v1's memory
    /// hierarchy), as CI runs them, give one to root.</summary>
    private sealed class MemoryCgroupFactAttribute : FactAttribute
    {
        public MemoryCgroupFactAttribute()
        {
            if (Environment.UserName != "root" || !Directory.Exists("/sys/fs/cgroup/memory"))
            {
                Skip = "needs root and cgroup v1's memory hierarchy (a hybrid host), where the decode sandbox makes a memory cgroup per worker";
            }
        }
    }

    private async Task<(int Exit, JsonElement Report)> CheckAsync(string mode, Targets targets)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[]
        {
            DecodeWorkerProcess.ResolveWorkerPath(new DecodeSandboxOptions()), ConfinementProbes.CheckArgument, "--mode", mode,
            "--connect", targets.Endpoint.ToString(), "--write", targets.Outside, "--exec", "/bin/true",
        })
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        output.WriteLine(stdout);
        output.WriteLine(await stderr);
        return (process.ExitCode, JsonDocument.Parse(stdout).RootElement);
    }
}
