using System.Diagnostics;
using System.Net;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Tests.MultiHost;
using MassTransit;
using Xunit.Abstractions;

namespace ArtGrid.Tests.Cluster;

/// <summary>
/// A silo and a gateway whose temporary folder and home are on a disk filled to its last byte (a tmpfs mounted for the
/// test, so root only). The silo writes nothing there that it needs: it starts, is ready, and its decode workers score
/// as the embedded mode does. The gateway's review export, which needs a temporary file, answers a 503 naming the full
/// disk, and works again once there is room.
/// </summary>
public sealed class DiskFullTests(ServersWithoutSilos fixture, ITestOutputHelper output) : IClassFixture<ServersWithoutSilos>
{
    [RootFact]
    public async Task ASiloAndAGatewayOnAFullDisk_StartAndScoreAsTheEmbeddedModeDoes_AndTheReviewExportSaysTheDiskIsFull()
    {
        ServersFixture cluster = fixture.Servers;
        await using FullDisk disk = await FullDisk.MountAsync();
        var onDisk = new Dictionary<string, string> { ["TMPDIR"] = disk.Folder, ["HOME"] = disk.Folder };
        await using SiloProcess silo = await SiloProcess.StartAsync("full-disk", new Dictionary<string, string>(cluster.SiloSettings.Concat(onDisk)));

        // Small images, carried in the message; what the embedded mode says of them computed meanwhile.
        IReadOnlyList<(string Name, byte[] Bytes)> images = cluster.DistinctImages(8, seed: 81);
        Task<Dictionary<string, (double Probability, string Label)>> embedded = MultiHostTests.EmbeddedScoresAsync(images);
        ScoreImages[] jobs = await Task.WhenAll(images.Select(async (image, i) => new ScoreImages
        {
            JobId = $"{cluster.RunId}-full-disk-{i}",
            Images = [new ImageReference { Name = image.Name, Data = await new ImageData(cluster.MessageData).OfAsync(image.Bytes) }],
            SubmittedAt = DateTimeOffset.UtcNow,
        }));
        Assert.All(jobs, job => Assert.True(ImageData.IsInline(job.Images[0].Data)));
        string[] ids = [.. jobs.Select(j => j.JobId)];
        await cluster.SendAllAsync(jobs);
        Assert.True(
            await cluster.Events.WaitForScoredAsync(ids, TimeSpan.FromMinutes(3)),
            $"{cluster.Events.CountScored(ids)} of {ids.Length} verdicts; {cluster.Events.Faults.Count} faults.\n{string.Join('\n', silo.Log.Split('\n').TakeLast(60))}");

        Dictionary<string, (double Probability, string Label)> expected = await embedded;
        foreach (string id in ids)
        {
            ImagesScored verdict = Assert.Single(cluster.Events.Scored[id]);
            ImageScore score = Assert.Single(verdict.Verdict.Images);
            Assert.True(score.Error is null, $"{id}: {score.Error?.Code}: {score.Error?.Message}\n{silo.Log}");
            (double probability, string label) = expected[score.Sha256!];
            Assert.InRange(score.AiProbability!.Value, probability - 1e-4, probability + 1e-4);
            Assert.Equal(label, score.Label);
        }

        Assert.Empty(cluster.Events.Faults);
        Assert.Equal(0, disk.FreeBytes);
        Assert.False(silo.HasExited, $"the silo exited:\n{silo.Log}");
        string[] spaceLines = [.. silo.Log.Split('\n').Where(l => l.Contains("No space left", StringComparison.Ordinal))];
        output.WriteLine($"{ids.Length} jobs scored on a full disk, each as embedded; silo log lines naming the full disk: {spaceLines.Length}");
        foreach (string line in spaceLines.Take(5))
        {
            output.WriteLine("  " + line);
        }

        // The gateway's review export needs a temporary file: refused, naming the disk, until there is room.
        await using GatewayProcess gateway = await GatewayProcess.StartAsync(cluster, new Dictionary<string, string> { ["TMPDIR"] = disk.Folder });
        HttpClient reviewer = gateway.Client(gateway.Keys["read+review"]);
        HttpResponseMessage refused = await reviewer.GetAsync("/v1/review/export");
        string body = await refused.Content.ReadAsStringAsync();
        output.WriteLine($"export on a full disk: {(int)refused.StatusCode} {body}");
        await GatewayTests.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Contains("disk is full", body, StringComparison.Ordinal);
        Assert.Contains(disk.Folder, body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        Assert.Contains(gateway.Log.Split('\n'), l => l.Contains("No space left on device", StringComparison.Ordinal));

        disk.MakeRoom();
        HttpResponseMessage export = await reviewer.GetAsync("/v1/review/export");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("application/zip", export.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Skips, saying why, unless root: mounting the test's small tmpfs needs it.</summary>
    private sealed class RootFactAttribute : FactAttribute
    {
        public RootFactAttribute()
        {
            if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
            {
                Skip = "needs root on Linux: the test mounts a small tmpfs and fills it, to give a silo and a gateway a full disk";
            }
        }
    }

    /// <summary>A 4 MiB tmpfs mounted on a temporary folder and filled with one file to its last byte; unmounted at the end.</summary>
    private sealed class FullDisk : IAsyncDisposable
    {
        private readonly string _filler;

        private FullDisk(string folder)
        {
            Folder = folder;
            _filler = Path.Combine(folder, "filler");
        }

        public string Folder { get; }

        public long FreeBytes => new DriveInfo(Folder).AvailableFreeSpace;

        public static async Task<FullDisk> MountAsync()
        {
            var disk = new FullDisk(Directory.CreateTempSubdirectory("artgrid-full-disk-").FullName);
            await RunAsync("mount", "-t", "tmpfs", "-o", "size=4m,mode=1777", "tmpfs", disk.Folder);
            byte[] chunk = new byte[64 * 1024];
            await using (var filler = new FileStream(disk._filler, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1))
            {
                try
                {
                    while (true)
                    {
                        filler.Write(chunk);
                    }
                }
                catch (IOException full) when (DiskFull.Is(full))
                {
                    // Filled in whole chunks; the last bytes one at a time.
                }

                try
                {
                    while (true)
                    {
                        filler.WriteByte(0);
                    }
                }
                catch (IOException full) when (DiskFull.Is(full))
                {
                }
            }

            Assert.Equal(0, disk.FreeBytes);
            return disk;
        }

        /// <summary>Removes the filler: the disk has room again.</summary>
        public void MakeRoom() => File.Delete(_filler);

        public async ValueTask DisposeAsync()
        {
            // Lazily: a process of the test that still has a file open there must not keep the mount.
            await RunAsync("umount", "--lazy", Folder);
            Directory.Delete(Folder);
        }

        private static async Task RunAsync(string program, params string[] arguments)
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            (int exit, string stdout, string stderr) = await TestProcesses.RunAsync(start);
            Assert.True(exit == 0, $"{program} {string.Join(' ', arguments)} failed ({exit}): {stdout}{stderr}");
        }
    }
}
