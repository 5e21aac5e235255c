using System.Text.RegularExpressions;

namespace ArtGrid.Tests.Deploy;

/// <summary>
/// The Dockerfiles under deploy/docker, read as text: each builds on the .NET SDK and publishes with
/// deploy/docker/publish.sh (which the published-programs tests run), runs as a numeric non-root user with a health
/// check on a port it exposes, and sets only configuration keys that exist.
/// </summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string, string> Images => new()
    {
        { "silo", "silo" },
        { "silo-cuda", "silo-gpu" },
        { "gateway", "gateway" },
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void EachImageIsPublishedByThePublishScriptAndRunsAsANumericNonRootUserWithAHealthCheck(string image, string program)
    {
        string[] lines = Dockerfile.Lines(image);
        Assert.Equal("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", lines.First(l => l.StartsWith("FROM ", StringComparison.Ordinal)));
        Assert.Equal(program, Dockerfile.PublishedProgram(image));

        Match user = UserLine().Match(lines.Last(l => l.StartsWith("USER ", StringComparison.Ordinal)));
        Assert.True(user.Success && int.Parse(user.Groups[1].Value) > 0, "USER must be a numeric, non-root uid");

        string healthcheck = lines.Single(l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        Match probe = HealthCheckCommand().Match(healthcheck);
        Assert.True(probe.Success, healthcheck);
        Assert.Contains(probe.Groups[1].Value, lines.Single(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal)).Split(' ').Skip(1));
        Assert.Equal("/health/ready", probe.Groups[2].Value);
        Assert.Contains(lines, l => l == "COPY deploy/docker/healthcheck.sh /usr/local/bin/artgrid-healthcheck");
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void EachImageSetsOnlyConfigurationKeysThatExistAndListensBeyondLoopback(string image, string program)
    {
        Dictionary<string, string> environment = Dockerfile.Environment(image);
        Assert.All(environment.Keys, key => Assert.Null(ConfigurationKeys.Check(key)));
        Assert.Equal("/tmp", environment["TMPDIR"]);
        if (program.StartsWith("silo", StringComparison.Ordinal))
        {
            Assert.Equal("0.0.0.0", environment["ArtGrid__Silo__ListenAddress"]);
            Assert.Equal("0.0.0.0", environment["ArtGrid__Silo__HttpAddress"]);
            Assert.Equal("/app/models", environment["ArtGrid__Inference__ModelsPath"]);
        }
        else
        {
            Assert.Equal("http://0.0.0.0:8080", environment["Urls"]);
        }
    }

    [Fact]
    public void TheCudaSiloRunsOnACuda13CudnnRuntimeWithTheDotnetRuntimeAndEveryGpu()
    {
        string[] lines = Dockerfile.Lines("silo-cuda");
        Assert.Matches(@"^ARG CUDA_IMAGE=nvidia/cuda:13\.[0-9.]+-cudnn-runtime-ubuntu", lines.Single(l => l.StartsWith("ARG CUDA_IMAGE=", StringComparison.Ordinal)));
        Assert.Contains("FROM ${CUDA_IMAGE}", lines);
        Assert.Contains(lines, l => l.StartsWith("COPY --from=dotnet /usr/share/dotnet", StringComparison.Ordinal));
        Assert.Equal("cuda:all", Dockerfile.Environment("silo-cuda")["ArtGrid__Inference__Devices__0"]);
    }

    [Fact]
    public void TheBuildContextCarriesTheSourcesAndModelsButNoBuildOutput()
    {
        string[] rules = [.. File.ReadAllLines(Path.Combine(TestAssets.RepositoryRoot, ".dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#'))];
        Assert.Equal("*", rules[0]);
        Assert.Contains("!src/", rules);
        Assert.Contains("!models/", rules);
        Assert.Contains("!deploy/docker/", rules);
        Assert.Contains("!Directory.Packages.props", rules);
        Assert.Contains("**/bin/", rules);
        Assert.Contains("**/obj/", rules);
    }

    [GeneratedRegex(@"^USER ([0-9]+)(:[0-9]+)?$")]
    private static partial Regex UserLine();

    [GeneratedRegex(@"CMD \[""artgrid-healthcheck"", ""([0-9]+)"", ""([^""]+)""\]$")]
    private static partial Regex HealthCheckCommand();
}

/// <summary>What the deploy tests read from deploy/docker/NAME.Dockerfile.</summary>
public static partial class Dockerfile
{
    public static string[] Lines(string image)
    {
        // Continuation lines joined, comments dropped.
        string text = File.ReadAllText(Path.Combine(DeployFiles.Docker, image + ".Dockerfile"));
        return [.. Continuation().Replace(text, " ").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];
    }

    /// <summary>The program its build stage publishes: the argument of <c>RUN deploy/docker/publish.sh PROGRAM /app</c>.</summary>
    public static string PublishedProgram(string image)
    {
        Match match = Lines(image).Select(l => PublishLine().Match(l)).Single(m => m.Success);
        return match.Groups[1].Value;
    }

    /// <summary>Every ENV of the image's last stage.</summary>
    public static Dictionary<string, string> Environment(string image)
    {
        string[] lines = Lines(image);
        int lastStage = Array.FindLastIndex(lines, l => l.StartsWith("FROM ", StringComparison.Ordinal));
        var environment = new Dictionary<string, string>();
        foreach (string line in lines.Skip(lastStage).Where(l => l.StartsWith("ENV ", StringComparison.Ordinal)))
        {
            foreach (Match pair in EnvPair().Matches(line[4..]))
            {
                environment[pair.Groups[1].Value] = pair.Groups[2].Value;
            }
        }

        return environment;
    }

    [GeneratedRegex(@"\\\r?\n")]
    private static partial Regex Continuation();

    [GeneratedRegex(@"^RUN deploy/docker/publish\.sh ([a-z-]+) /app$")]
    private static partial Regex PublishLine();

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=(\S*)")]
    private static partial Regex EnvPair();
}
