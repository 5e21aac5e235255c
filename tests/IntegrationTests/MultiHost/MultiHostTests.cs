using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ArtGrid.Contracts;
using ArtGrid.Hosting.Messaging;
using ArtGrid.Tests.Cluster;
using MassTransit;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ArtGrid.Tests.MultiHost;

/// <summary>
/// The cluster across hosts: RabbitMQ and Redis on one host, three silos and the gateway each on a host of its own,
/// every host a network namespace with its own address on a private bridge (<see cref="NetworkLab"/>), nothing on
/// loopback between them. Silos run with their shipped settings (ports 11111, 30000 and 8081 on every host, as on real
/// machines) and find the address they advertise themselves. A thousand jobs, a host that loses power mid-run and
/// comes back, then every silo restarted in turn with SIGTERM: no job lost, no verdict published twice, and every
/// verdict equal to the one the embedded mode gives the same image. And a partition: the hosts of two silos cut off
/// from each other while both still reach the servers, the third silo and the gateway (<see cref="NetworkLab.Cut"/>),
/// with jobs sent before, during and after it. Opt-in (needs root): <c>./test.sh multihost</c>.
/// </summary>
[Trait("Category", "MultiHost")]
public sealed class MultiHostTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Jobs = 1000, ThroughGateway = 100, SiloCount = 3;
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private readonly string _run = "mh" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _state = Directory.CreateTempSubdirectory("artgrid-multihost-").FullName;
    private readonly string _adminKey = "ag_test_" + Guid.NewGuid().ToString("N");
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Cluster.EventLog _events = new();
    private readonly List<LabProcess> _silos = [];
    private NetworkLab? _lab;
    private LabHost? _servers;
    private LabProcess? _gateway;
    private RedisConnection? _redis;
    private IBusControl? _bus;

    private LabHost Servers => _servers!;

    private Uri RabbitMq => new($"amqp://guest:guest@{Servers.Address}:5672/");

    public async Task InitializeAsync()
    {
        _lab = NetworkLab.Create();
        _servers = _lab.AddHost("servers", 2);
        LabHost[] siloHosts = [.. Enumerable.Range(1, SiloCount).Select(i => _lab.AddHost($"silo{i}", 10 + i))];
        LabHost gatewayHost = _lab.AddHost("gateway", 20);

        await StartServersAsync();
        // The silos start together, as a deployment's would; the gateway once one of them is a member.
        LabProcess[] silos = [.. siloHosts.Select((host, i) => StartSilo($"silo-{i + 1}", host))];
        _silos.AddRange(silos);
        await Task.WhenAll(silos.Select(WaitReadyAsync));
        _gateway = LabProcess.Start(
            "gateway", gatewayHost, SiloProcess.ProjectOutput("Gateway"), "artgrid-gateway.dll",
            ["--urls", $"http://{gatewayHost.Address}:8080"],
            new Dictionary<string, string>(ConnectionStrings())
            {
                ["ArtGrid__Gateway__ApiKeys__0__Name"] = "multihost-admin",
                ["ArtGrid__Gateway__ApiKeys__0__Hash"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_adminKey))),
                ["ArtGrid__Gateway__ApiKeys__0__Scopes__0"] = "admin",
            });
        await Ok(_gateway.WaitForAsync(_http, GatewayUri("/health/ready"), StartTimeout), _gateway);

        _redis = new RedisConnection($"{Servers.Address}:6379");
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.UseArtGrid(RabbitMq, new RedisMessageDataRepository(_redis, TimeSpan.FromHours(1)));
            rabbit.ReceiveEndpoint($"artgrid-test-events-{_run}", endpoint =>
            {
                endpoint.Handler<ImagesScored>(context => _events.Add(context.Message));
                endpoint.Handler<ScoreImagesRejected>(context => _events.Add(context.Message));
                endpoint.Handler<Fault<ScoreImages>>(context => _events.Add(context.Message));
            });
        });
        await _bus.StartAsync();
    }

    [Fact]
    public async Task ThreeSilosOnThreeHosts_SurviveAHostLosingPowerAndARollingRestart_EveryVerdictOnceAndEqualToEmbedded()
    {
        IReadOnlyList<(string Name, byte[] Bytes)> images = TestImages.Distinct(_run, Jobs, seed: 18);
        Task<Dictionary<string, (double Probability, string Label)>> embedded = EmbeddedScoresAsync(images);
        string[] jobIds = [.. Enumerable.Range(0, Jobs).Select(i => $"{_run}-{i}")];
        string[] firstHalf = jobIds[..(Jobs / 2)], secondHalf = jobIds[(Jobs / 2)..];
        AssertNothingOnLoopback();

        // 1. Half of the jobs; once 100 verdicts are in, the second silo's host loses power (every process in it,
        //    decode workers included, SIGKILLed) and comes back with the same address and ports.
        var clock = Stopwatch.StartNew();
        await SubmitAsync(images, 0, Jobs / 2);
        await Wait.UntilAsync(() => _events.CountScored(firstHalf) >= 100, LongWait, "100 verdicts did not arrive:\n" + Tails());
        int doneAtKill = _events.CountScored(jobIds);
        _silos[1].Host.KillAll();
        await _silos[1].DisposeAsync();
        output.WriteLine($"{_silos[1].Host.Name} lost power at {clock.Elapsed.TotalSeconds:0.0} s with {Jobs / 2 - doneAtKill} of the first {Jobs / 2} jobs unfinished");
        _silos[1] = StartSilo("silo-2", _silos[1].Host);
        await WaitReadyAsync(_silos[1]);
        output.WriteLine($"silo-2 back and ready at {clock.Elapsed.TotalSeconds:0.0} s");

        // 2. The other half, then every silo in turn: SIGTERM, wait for its exit, start it again, wait until it is ready.
        await SubmitAsync(images, Jobs / 2, Jobs);
        var rolls = new List<string>();
        int rolledUnderLoad = 0;
        for (int i = 0; i < SiloCount; i++)
        {
            int unfinished = Jobs - _events.CountScored(jobIds);
            rolledUnderLoad += unfinished > 0 ? 1 : 0;
            (int exitCode, TimeSpan took) = await _silos[i].TerminateAsync(TimeSpan.FromSeconds(90));
            Assert.True(exitCode == 0, $"{_silos[i].Name} exited with {exitCode} after SIGTERM:\n{_silos[i].Tail(60)}");
            await _silos[i].DisposeAsync();
            rolls.Add($"{_silos[i].Name}: SIGTERM with {unfinished} jobs unfinished, exited in {took.TotalSeconds:0.0} s");
            _silos[i] = StartSilo($"silo-{i + 1}", _silos[i].Host);
            await WaitReadyAsync(_silos[i]);
        }

        output.WriteLine(string.Join('\n', rolls));
        Assert.True(rolledUnderLoad >= 1, "every job had finished before the first silo was restarted: the roll ran without load");

        bool all = await _events.WaitForScoredAsync(jobIds, LongWait);
        output.WriteLine($"all {Jobs} verdicts after {clock.Elapsed.TotalSeconds:0.0} s: {all}");
        Assert.True(all, $"{_events.CountScored(jobIds)} of {Jobs} verdicts arrived; without one: " +
                         string.Join(", ", jobIds.Where(id => !_events.Scored.ContainsKey(id)).Take(5)) + "\n" + Tails());
        await Task.Delay(TimeSpan.FromSeconds(3)); // room for a repeated publication to arrive, were there one

        // 3. One verdict per job. A job in flight on the host that lost power may have its verdict published a second
        //    time (the broker took the event, the silo died before it recorded that); it must be the same verdict. The
        //    jobs sent after the power loss went through the rolling restart only, and are published exactly once.
        Dictionary<string, (double Probability, string Label)> expected = await embedded;
        int republished = 0, mismatched = 0;
        var mismatches = new List<string>();
        foreach ((string jobId, int i) in jobIds.Select((id, i) => (id, i)))
        {
            ImagesScored[] published = [.. _events.Scored[jobId]];
            Assert.Single(published.Select(e => (e.Verdict.CompletedAt, e.Verdict.AiProbability)).Distinct());
            if (i >= Jobs / 2)
            {
                Assert.True(published.Length == 1, $"{jobId} (sent after the power loss) was published {published.Length} times");
            }

            republished += published.Length - 1;
            ImageScore score = Assert.Single(published[0].Verdict.Images);
            Assert.Null(score.Error);
            (double probability, string label) = expected[score.Sha256!];
            if (Math.Abs(score.AiProbability!.Value - probability) > 1e-4 || score.Label != label)
            {
                mismatched++;
                mismatches.Add($"{jobId}: cluster {score.AiProbability:0.000000} {score.Label}, embedded {probability:0.000000} {label}");
            }
        }

        Assert.True(mismatched == 0, $"{mismatched} verdicts differ from the embedded score: {string.Join("; ", mismatches.Take(5))}");
        Assert.True(_events.Faults.IsEmpty, $"{_events.Faults.Count} jobs ended in the error queue: " + string.Join("; ", _events.Faults.Select(Describe)));
        output.WriteLine($"{Jobs} jobs, {republished} repeated publications (power loss), every verdict equal to the embedded score");

        // 4. The gateway, on its own host, reads the same verdicts from Redis.
        using var request = new HttpRequestMessage(HttpMethod.Get, GatewayUri($"/v1/jobs/{jobIds[^1]}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _adminKey);
        using HttpResponseMessage job = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, job.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await job.Content.ReadAsStringAsync());
        Assert.Equal("completed", body.RootElement.GetProperty("status").GetString());
        Assert.Equal(
            _events.Scored[jobIds[^1]].First().Verdict.AiProbability,
            body.RootElement.GetProperty("verdict").GetProperty("aiProbability").GetDouble());

        // 5. The command line, on another host (the gateway's), sends jobs over the bus and gets their verdicts.
        (int exit, string stdout, string stderr) = await SubmitFromAsync(_gateway!.Host, [.. TestAssets.SampleImages.Take(2)]);
        Assert.True(exit == 0, $"artgrid submit --wait exited with {exit}: {stderr}");
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, line => Assert.Contains(JsonDocument.Parse(line).RootElement.GetProperty("label").GetString(), new[] { "ai", "human", "uncertain" }));

        // 6. Restarted processes too listen on their host's address only.
        AssertNothingOnLoopback();
    }

    /// <summary>
    /// Two partitions between the hosts of silo-1 and silo-2, each held 20 s with jobs sent before, during and after it.
    /// With silo-3 up and reaching both, Orleans' indirect probes (each side asks silo-3 to probe the other, and it
    /// answers) keep both members: no silo is declared dead, and calls between the two wait out the partition. With
    /// silo-3 stopped, the two are alone: the first to vote declares the other dead (one vote is a majority of two), the
    /// silo declared dead reads so in Redis and stops its process, and started again it joins. Either way every job
    /// gets one verdict.
    /// </summary>
    [Fact]
    public async Task APartitionBetweenTwoSiloHosts_WhileJobsFlow_EveryJobGetsOneVerdict_AndNoSiloIsLeftHung()
    {
        const int PerPhase = 80;
        IReadOnlyList<(string Name, byte[] Bytes)> images = TestImages.Distinct(_run, 6 * PerPhase, seed: 20);
        string[] jobIds = [.. Enumerable.Range(0, images.Count).Select(i => $"{_run}-{i}")];
        var clock = Stopwatch.StartNew();

        // 1. Three silos: silo-3 sees both sides. Nobody is declared dead; all three are members after the heal.
        PartitionRound three = await PartitionAsync(images, 0, PerPhase, clock);
        Assert.True(three.DeclaredDead.Count == 0, "with a third silo reaching both sides, declared dead: " + string.Join(", ", three.DeclaredDead.Keys));
        Assert.All(_silos, silo => Assert.False(silo.HasExited, $"{silo.Name} exited:\n{silo.Tail(40)}"));
        Assert.Equal(SiloCount, (await MembershipAsync()).Count(m => m.Status == "Active"));

        // 2. silo-3 leaves (SIGTERM); the two others alone. Exactly one of them is declared dead and its process ends.
        (int exitCode, _) = await _silos[2].TerminateAsync(TimeSpan.FromSeconds(90));
        Assert.True(exitCode == 0, $"silo-3 exited with {exitCode} after SIGTERM:\n{_silos[2].Tail(60)}");
        PartitionRound two = await PartitionAsync(images, 3 * PerPhase, PerPhase, clock);
        (string deadName, TimeSpan declaredAfter) = Assert.Single(two.DeclaredDead);
        int dead = _silos.FindIndex(s => s.Name == deadName);
        LabProcess survivor = _silos[1 - dead];
        await Wait.UntilAsync(() => _silos[dead].HasExited, TimeSpan.FromMinutes(2), $"{deadName}, declared dead, did not exit:\n{_silos[dead].Tail(60)}");
        Assert.False(survivor.HasExited, $"{survivor.Name} exited as well:\n{survivor.Tail(60)}");
        output.WriteLine($"{deadName} declared dead {declaredAfter.TotalSeconds:0.0} s after the cut and exited with code {_silos[dead].ExitCode}; {survivor.Name} kept on; " +
                         "the dead silo's last word: " + _silos[dead].Log.Split('\n').LastOrDefault(l => l.Contains("dead", StringComparison.OrdinalIgnoreCase) && !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)));

        // 3. The dead silo and silo-3 started again: both join, and the jobs left finish.
        foreach (int i in new[] { dead, 2 })
        {
            await _silos[i].DisposeAsync();
            _silos[i] = StartSilo($"silo-{i + 1}", _silos[i].Host);
        }

        foreach (LabProcess silo in _silos)
        {
            await WaitReadyAsync(silo);
        }

        bool all = await _events.WaitForScoredAsync(jobIds, LongWait);
        output.WriteLine($"all {jobIds.Length} verdicts after {clock.Elapsed.TotalSeconds:0.0} s: {all}");
        Assert.True(all, $"{_events.CountScored(jobIds)} of {jobIds.Length} verdicts arrived; without one: " +
                         string.Join(", ", jobIds.Where(id => !_events.Scored.ContainsKey(id)).Take(5)) + "\n" + Tails());
        Assert.Equal(SiloCount, (await MembershipAsync()).Count(m => m.Status == "Active"));
        await Task.Delay(TimeSpan.FromSeconds(3)); // room for a repeated publication to arrive, were there one

        // 4. One verdict per job, recorded completed in Redis, no image error, nothing in the error queue.
        var records = new RedisJobRecords(_redis!, TimeSpan.FromHours(1));
        int republished = 0;
        foreach (string jobId in jobIds)
        {
            ImagesScored[] published = [.. _events.Scored[jobId]];
            Assert.Single(published.Select(e => (e.Verdict.CompletedAt, e.Verdict.AiProbability)).Distinct());
            republished += published.Length - 1;
            Assert.Null(Assert.Single(published[0].Verdict.Images).Error);
            JobRecord record = (await records.GetAsync(jobId))!;
            Assert.Equal(JobStatus.Completed, record.Status);
            Assert.Equal(published[0].Verdict.CompletedAt, record.Verdict!.CompletedAt);
        }

        Assert.True(_events.Faults.IsEmpty, $"{_events.Faults.Count} jobs ended in the error queue: " + string.Join("; ", _events.Faults.Select(Describe)));
        Assert.Equal(0u, await ErrorQueueDepthAsync());
        output.WriteLine($"{jobIds.Length} jobs, one verdict each, {republished} repeated publications");
    }

    /// <summary>What one partition did: the silos declared dead (by name) and how long after the cut.</summary>
    private sealed record PartitionRound(IReadOnlyDictionary<string, TimeSpan> DeclaredDead);

    /// <summary>
    /// Jobs [from, from + count) before the cut, as many during it, as many after the heal, between the hosts of silo-1
    /// and silo-2; the partition held 20 s while the membership table is read every half second for members that were
    /// active at the cut and are now dead. Waits for this round's jobs' verdicts, unless a silo was declared dead (the
    /// caller restarts it first).
    /// </summary>
    private async Task<PartitionRound> PartitionAsync(IReadOnlyList<(string Name, byte[] Bytes)> images, int from, int count, Stopwatch clock)
    {
        TimeSpan hold = TimeSpan.FromSeconds(20);
        LabHost a = _silos[0].Host, b = _silos[1].Host;
        string[] before = [.. Enumerable.Range(from, count).Select(i => $"{_run}-{i}")];
        string[] round = [.. Enumerable.Range(from, 3 * count).Select(i => $"{_run}-{i}")];
        await SubmitAsync(images, from, from + count);
        await Wait.UntilAsync(() => _events.CountScored(before) >= count / 2, LongWait, $"{count / 2} verdicts did not arrive:\n" + Tails());

        HashSet<string> active = [.. (await MembershipAsync()).Where(m => m.Status == "Active").Select(m => m.Address)];
        NetworkLab.Cut(a, b);
        TimeSpan cutAt = clock.Elapsed;
        int doneAtCut = _events.CountScored(round);
        await SubmitAsync(images, from + count, from + 2 * count);
        var declaredDead = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        while (clock.Elapsed - cutAt < hold)
        {
            foreach (Member member in await MembershipAsync())
            {
                if (member.Status == "Dead" && active.Contains(member.Address))
                {
                    declaredDead.TryAdd(member.Name, clock.Elapsed - cutAt);
                }
            }

            await Task.Delay(500);
        }

        int doneDuring = _events.CountScored(round) - doneAtCut;
        NetworkLab.Heal(a, b);
        TimeSpan healAt = clock.Elapsed;
        await SubmitAsync(images, from + 2 * count, from + 3 * count);
        string deaths = declaredDead.Count == 0 ? "none" : string.Join(", ", declaredDead.Select(d => $"{d.Key} after {d.Value.TotalSeconds:0.0} s"));
        output.WriteLine($"{active.Count} members: cut {a.Name} | {b.Name} at {cutAt.TotalSeconds:0.0} s, healed {hold.TotalSeconds:0} s later; " +
                         $"{doneDuring} verdicts during the partition; declared dead: {deaths}");
        if (declaredDead.Count == 0)
        {
            bool done = await _events.WaitForScoredAsync(round, LongWait);
            Assert.True(done, $"{_events.CountScored(round)} of {round.Length} verdicts arrived\n" + Tails());
            output.WriteLine($"the round's last verdict {(clock.Elapsed - healAt).TotalSeconds:0.0} s after the heal");
        }

        return new PartitionRound(declaredDead);
    }

    /// <summary>One silo's row in the cluster's membership table in Redis (Orleans' Redis clustering).</summary>
    private sealed record Member(string Name, string Address, string Status)
    {
        public override string ToString() => $"{Name} {Address} {Status}";
    }

    /// <summary>The rows of the membership table: a Redis hash per cluster, one JSON field per silo incarnation.</summary>
    private async Task<IReadOnlyList<Member>> MembershipAsync()
    {
        IConnectionMultiplexer redis = await _redis!.GetAsync();
        IDatabase db = redis.GetDatabase();
        var members = new List<Member>();
        await foreach (RedisKey key in redis.GetServer(redis.GetEndPoints()[0]).KeysAsync(pattern: "*/members/*"))
        {
            foreach (HashEntry field in await db.HashGetAllAsync(key))
            {
                if (field.Name == "Version")
                {
                    continue;
                }

                using JsonDocument row = JsonDocument.Parse(field.Value.ToString());
                JsonElement status = row.RootElement.GetProperty("Status");
                members.Add(new Member(
                    row.RootElement.GetProperty("SiloName").GetString() ?? "",
                    field.Name.ToString(),
                    status.ValueKind == JsonValueKind.Number ? ((SiloStatusName)status.GetInt32()).ToString() : status.GetString()!));
            }
        }

        return members;
    }

    /// <summary>Orleans' SiloStatus values, as its Redis table writes them.</summary>
    private enum SiloStatusName
    {
        None = 0, Created = 1, Joining = 2, Active = 3, ShuttingDown = 4, Stopping = 5, Dead = 6,
    }

    private async Task<uint> ErrorQueueDepthAsync()
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = RabbitMq };
        await using RabbitMQ.Client.IConnection connection = await factory.CreateConnectionAsync();
        await using RabbitMQ.Client.IChannel channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(new BusOptions().QueueName + "_error")).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0; // MassTransit makes the error queue with the first message it moves there
        }
    }

    private Task<(int Exit, string Stdout, string Stderr)> SubmitFromAsync(LabHost host, string[] paths)
    {
        string folder = SiloProcess.ProjectOutput("Cli");
        return TestProcesses.RunAsync(host.Command(
            "dotnet",
            [Path.Combine(folder, "artgrid.dll"), "submit", "--wait", "--timeout", "120", "--bus", RabbitMq.ToString(), "--redis", $"{Servers.Address}:6379", .. paths],
            folder));
    }

    /// <summary>
    /// Jobs [from, to): one in ten through the gateway's HTTP API (its own host), the others straight onto the bus with
    /// their bytes claim-checked in Redis, as a producer would.
    /// </summary>
    private async Task SubmitAsync(IReadOnlyList<(string Name, byte[] Bytes)> images, int from, int to)
    {
        ISendEndpoint queue = await _bus!.GetSendEndpoint(await ScoreQueue.DeclareAsync(RabbitMq, new BusOptions().QueueName, CancellationToken.None));
        var repository = new RedisMessageDataRepository(_redis!, TimeSpan.FromHours(1));
        for (int i = from; i < to; i++)
        {
            string jobId = $"{_run}-{i}";
            (string name, byte[] bytes) = images[i];
            if (i % (Jobs / ThroughGateway) == 0)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, GatewayUri("/v1/jobs"))
                {
                    Content = JsonContent.Create(new { jobId, images = new[] { new { name, base64 = Convert.ToBase64String(bytes) } } }),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _adminKey);
                using HttpResponseMessage response = await _http.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{jobId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            else
            {
                await queue.Send(new ScoreImages
                {
                    JobId = jobId,
                    Images = [new ImageReference { Name = name, Data = await ImageData.ClaimCheckAsync(repository, bytes) }],
                    SubmittedAt = DateTimeOffset.UtcNow,
                });
            }
        }
    }

    /// <summary>What <c>artgrid score</c> (embedded, no servers) says of the same images, by content hash.</summary>
    internal static async Task<Dictionary<string, (double Probability, string Label)>> EmbeddedScoresAsync(IReadOnlyList<(string Name, byte[] Bytes)> images)
    {
        string folder = Directory.CreateTempSubdirectory("artgrid-multihost-embedded-").FullName;
        try
        {
            foreach ((string name, byte[] bytes) in images)
            {
                await File.WriteAllBytesAsync(Path.Combine(folder, name), bytes);
            }

            (int exit, string stdout, string stderr) = await CliTests.RunAsync("score", folder);
            Assert.True(exit == 0, stderr);
            var scores = new Dictionary<string, (double, string)>(StringComparer.Ordinal);
            foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using JsonDocument doc = JsonDocument.Parse(line);
                JsonElement score = doc.RootElement;
                scores[score.GetProperty("sha256").GetString()!] = (score.GetProperty("aiProbability").GetDouble(), score.GetProperty("label").GetString()!);
            }

            Assert.Equal(images.Count, scores.Count);
            return scores;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// No ArtGrid process listens on loopback or on every interface: silos and the gateway on their host's address only.
    /// On the servers' host Redis and AMQP listen on its address; only the broker's own Erlang distribution (epmd 4369,
    /// its node port) stays on that host's loopback, for its command-line tools.
    /// </summary>
    private void AssertNothingOnLoopback()
    {
        foreach (LabProcess process in _silos.Append(_gateway!))
        {
            var sockets = process.Host.Listening();
            Assert.NotEmpty(sockets);
            Assert.All(sockets, s => Assert.True(s.Local.Address.Equals(process.Host.Address), $"{process.Name} listens on {s.Local} ({s.Program})"));
        }

        var servers = Servers.Listening();
        Assert.Contains(servers, s => s.Local.Equals(new IPEndPoint(Servers.Address, 6379)));
        Assert.Contains(servers, s => s.Local.Equals(new IPEndPoint(Servers.Address, 5672)));
        Assert.All(servers.Where(s => !s.Local.Address.Equals(Servers.Address)), s =>
            Assert.True(IPAddress.IsLoopback(s.Local.Address) && s.Program is "epmd" or "beam.smp" && s.Local.Port is 4369 or 25672,
                $"the servers' host listens on {s.Local} ({s.Program})"));
    }

    private static string Describe(Fault<ScoreImages> fault)
    {
        var text = new StringBuilder(fault.Message.JobId);
        for (ExceptionInfo? e = fault.Exceptions.FirstOrDefault(); e is not null; e = e.InnerException)
        {
            text.Append(" <- ").Append(e.ExceptionType).Append(": ").Append(e.Message);
        }

        return text.ToString();
    }

    private Dictionary<string, string> ConnectionStrings() => new()
    {
        ["ConnectionStrings__Redis"] = $"{Servers.Address}:6379",
        ["ConnectionStrings__RabbitMq"] = RabbitMq.ToString(),
    };

    /// <summary>A silo with its shipped settings: no address given (it finds its own), ports 11111/30000/8081.</summary>
    private LabProcess StartSilo(string name, LabHost host) => LabProcess.Start(
        name, host, SiloProcess.ProjectOutput("Silo"), "artgrid-silo.dll", [],
        new Dictionary<string, string>(ServersFixture.TestClusterSettings.Concat(ConnectionStrings()))
        {
            ["ArtGrid__Silo__Name"] = name,
            // Three silos share this machine's cores: one decode worker each.
            ["ArtGrid__Preprocessing__Sandbox__Workers"] = "1",
        });

    private async Task WaitReadyAsync(LabProcess silo) =>
        await Ok(silo.WaitForAsync(_http, new Uri($"http://{silo.Host.Address}:8081/health/ready"), StartTimeout), silo);

    private static async Task Ok(Task<string?> waited, LabProcess process)
    {
        if (await waited is { } failure)
        {
            Assert.Fail($"{failure}\n{process.Tail(80)}");
        }
    }

    private Uri GatewayUri(string path) => new($"http://{_gateway!.Host.Address}:8080{path}");

    private string Tails() => string.Join('\n', _silos.Append(_gateway!).Where(p => p is not null).Select(p => p.Tail()));

    /// <summary>Redis and RabbitMQ on the servers' host, through the same script as everywhere, on its address.</summary>
    private async Task StartServersAsync()
    {
        ProcessStartInfo start = Servers.Command("bash", [Path.Combine(TestAssets.RepositoryRoot, "deploy", "servers.sh"), "up"]);
        start.Environment["ARTGRID_BIND_ADDRESS"] = Servers.Address.ToString();
        start.Environment["ARTGRID_REDIS_PORT"] = "6379";
        start.Environment["ARTGRID_AMQP_PORT"] = "5672";
        start.Environment["ARTGRID_STATE_DIR"] = _state;
        start.Environment.Remove("ARTGRID_RABBITMQ_MANAGEMENT_PORT");
        start.Environment.Remove("ARTGRID_RABBITMQ_PROMETHEUS_PORT");
        (int exit, string stdout, string stderr) = await TestProcesses.RunAsync(start);
        Assert.True(exit == 0, $"servers.sh up on the servers' host failed ({exit}):\n{stdout}\n{stderr}");
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_bus is not null)
            {
                await _bus.StopAsync();
            }

            foreach (LabProcess process in _silos.Append(_gateway).OfType<LabProcess>())
            {
                await process.DisposeAsync();
            }

            if (_redis is not null)
            {
                await _redis.DisposeAsync();
            }
        }
        finally
        {
            // Every process left in the lab (Redis, RabbitMQ, epmd, decode workers) goes with its namespace.
            if (_lab is not null)
            {
                await _lab.DisposeAsync();
            }

            Directory.Delete(_state, recursive: true);
            _http.Dispose();
        }
    }
}
