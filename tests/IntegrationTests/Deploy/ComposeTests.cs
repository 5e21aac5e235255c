using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace ArtGrid.Tests.Deploy;

/// <summary>
/// deploy/compose.yaml read as Compose reads it (anchors and merge keys resolved): its services, health checks and
/// start order, the configuration keys the ArtGrid services set, the ports it publishes, the GPU profile; and, where
/// Debian's docker-compose is installed, its own validation of the file.
/// </summary>
public sealed class ComposeTests(ITestOutputHelper output)
{
    private static string ComposePath => Path.Combine(DeployFiles.Deploy, "compose.yaml");

    private static YamlMappingNode Compose => DeployFiles.ParseFile(ComposePath);

    private static IReadOnlyDictionary<string, YamlNode> Services => Compose.Entries("services");

    [Fact]
    public void ItRunsRabbitMqRedisTwoSilosAndTheGatewayEachHealthCheckedAndStartedAfterWhatItNeeds()
    {
        Assert.Equal(new[] { "gateway", "rabbitmq", "redis", "silo-1", "silo-2", "silo-gpu" }, Services.Keys.Order());
        Assert.Contains("management", Services["rabbitmq"].Str("image"));
        Assert.Equal(new[] { "redis-server", "--appendonly", "yes" }, Services["redis"].Strings("command").Take(3));
        foreach ((string name, YamlNode service) in Services)
        {
            Assert.True(service.Strings("healthcheck", "test").Count >= 2, $"{name}: no health check");
            foreach ((string dependency, YamlNode condition) in service.Entries("depends_on"))
            {
                Assert.True(Services.ContainsKey(dependency), $"{name} depends on {dependency}, which is not a service");
                Assert.Equal("service_healthy", condition.Str("condition"));
            }
        }

        foreach (string artgrid in new[] { "silo-1", "silo-2", "silo-gpu", "gateway" })
        {
            Assert.Equal(new[] { "rabbitmq", "redis" }, Services[artgrid].Entries("depends_on").Keys.Where(k => !k.StartsWith("silo", StringComparison.Ordinal)).Order());
            Assert.Equal("true", Services[artgrid].Str("read_only"));
            if (artgrid.StartsWith("silo", StringComparison.Ordinal))
            {
                // Docker's default is 10 s before SIGKILL: a silo needs longer than its drain.
                string grace = Services[artgrid].Str("stop_grace_period") ?? "10s";
                Assert.True(int.Parse(grace.TrimEnd('s')) > ConfigurationKeys.ShutdownSecondsDefault, $"{artgrid}: stop_grace_period {grace}");
            }

            Assert.Contains(Services[artgrid].Strings("tmpfs"), t => t.StartsWith("/tmp", StringComparison.Ordinal));
        }

        Assert.Equal(new[] { "silo-1", "silo-2" }, Services["gateway"].Entries("depends_on").Keys.Where(k => k.StartsWith("silo", StringComparison.Ordinal)).Order());
        Assert.Equal(new[] { "gpu" }, Services["silo-gpu"].Strings("profiles"));
    }

    [Fact]
    public void TheArtGridServicesSetOnlyConfigurationKeysThatExistAndSilosListenOnEveryInterface()
    {
        var problems = new List<string>();
        foreach (string name in new[] { "silo-1", "silo-2", "silo-gpu", "gateway" })
        {
            IReadOnlyDictionary<string, string> environment = Services[name].StringEntries("environment");
            Assert.NotEmpty(environment);
            problems.AddRange(environment.Keys.Select(ConfigurationKeys.Check).OfType<string>().Select(p => $"{name}: {p}"));
            Assert.Equal("redis:6379", environment["ConnectionStrings__Redis"]);
            Assert.Equal("rabbitmq", new Uri(environment["ConnectionStrings__RabbitMq"]).Host);
            if (name.StartsWith("silo", StringComparison.Ordinal))
            {
                Assert.Equal("0.0.0.0", environment["ArtGrid__Silo__ListenAddress"]);
                Assert.Equal("0.0.0.0", environment["ArtGrid__Silo__HttpAddress"]);
                Assert.Equal(name, environment["ArtGrid__Silo__Name"]);
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
        Assert.Equal(3, Services.Values.Select(s => s.StringEntries("environment").GetValueOrDefault("ArtGrid__Silo__Name")).OfType<string>().Distinct().Count());
    }

    [Fact]
    public void OnlyTheGatewayAndRabbitMqsManagementUiArePublishedAndOnlyOnLoopback()
    {
        var published = Services.Where(s => s.Value.Seq("ports").Count > 0).ToDictionary(s => s.Key, s => s.Value.Strings("ports"));
        Assert.Equal(new[] { "gateway", "rabbitmq" }, published.Keys.Order());
        Assert.All(published.Values.SelectMany(p => p), port => Assert.StartsWith("127.0.0.1:", port, StringComparison.Ordinal));
        Assert.EndsWith(":8080", Assert.Single(published["gateway"]), StringComparison.Ordinal);
        Assert.EndsWith(":15672", Assert.Single(published["rabbitmq"]), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryArtGridImageIsBuiltFromTheDockerfileOfItsNameAndTheGpuSiloReservesNvidiaGpus()
    {
        foreach ((string name, YamlNode service) in Services.Where(s => s.Value.Str("image")!.StartsWith("artgrid/", StringComparison.Ordinal)))
        {
            string image = service.Str("image")!.Split(':')[0]["artgrid/".Length..];
            Assert.True(File.Exists(Path.Combine(DeployFiles.Docker, image + ".Dockerfile")), $"{name}: no Dockerfile for {image}");
            if (service.Str("build", "dockerfile") is { } dockerfile)
            {
                Assert.Equal($"deploy/docker/{image}.Dockerfile", dockerfile);
                Assert.Equal(TestAssets.RepositoryRoot, Path.GetFullPath(Path.Combine(DeployFiles.Deploy, service.Str("build", "context")!)).TrimEnd('/'));
            }
        }

        YamlNode gpu = Services["silo-gpu"];
        Assert.StartsWith("artgrid/silo-cuda:", gpu.Str("image"), StringComparison.Ordinal);
        YamlNode device = gpu.Seq("deploy", "resources", "reservations", "devices").Single();
        Assert.Equal("nvidia", device.Str("driver"));
        Assert.Contains("gpu", device.Strings("capabilities"));
        Assert.StartsWith("cuda:", gpu.StringEntries("environment")["ArtGrid__Inference__Devices__0"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerComposeAcceptsTheFileWhereItIsInstalled()
    {
        string? compose = DeployFiles.OnPath("docker-compose");
        if (compose is null)
        {
            output.WriteLine("docker-compose is not on PATH: only the YAML checks of this class ran (Debian: apt-get install docker-compose)");
            return;
        }

        var environment = new Dictionary<string, string> { ["ARTGRID_ADMIN_KEY_HASH"] = new string('0', 64) };
        (int exit, _, string stderr) = await DeployFiles.RunAsync(compose, environment, "-f", ComposePath, "config", "-q");
        Assert.True(exit == 0, $"{compose} config -q: {stderr}");
        (exit, string services, stderr) = await DeployFiles.RunAsync(compose, environment, "-f", ComposePath, "--profile", "gpu", "config", "--services");
        Assert.True(exit == 0, stderr);
        Assert.Equal(Services.Keys.Order(), services.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        output.WriteLine($"{compose} config -q accepted deploy/compose.yaml");
    }
}
