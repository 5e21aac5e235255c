using System.Diagnostics;
using System.Reflection;
using System.Xml.Linq;
using Microsoft.Extensions.Logging;

namespace ArtGrid.Tests.Architecture;

/// <summary>
/// The layering rules of docs/ARCHITECTURE.md, read from the .csproj files, and the page's generated graph. A reference
/// that breaks a rule fails here before it can blur which code runs where.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly string Root = TestAssets.RepositoryRoot;

    private static readonly IReadOnlyDictionary<string, Project> Projects = Directory
        .EnumerateFiles(Root, "*.csproj", SearchOption.AllDirectories)
        .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
        .Select(Project.Load)
        .ToDictionary(p => p.Name);

    [Fact]
    public void TheBottomLayersReferenceNothingOfOursButCore()
    {
        Assert.Empty(Projects["ArtGrid.Core"].References);
        foreach (string name in new[] { "ArtGrid.Contracts", "ArtGrid.GrainInterfaces", "ArtGrid.Imaging", "ArtGrid.Inference" })
        {
            Assert.Equal(["ArtGrid.Core"], Projects[name].References);
        }
    }

    [Fact]
    public void ImagingAndInferenceUseNoOrleansAndTheWorkerOnlyImaging()
    {
        foreach (string name in new[] { "ArtGrid.Imaging", "ArtGrid.Inference", "ArtGrid.DecodeWorker" })
        {
            Assert.DoesNotContain(Projects[name].Packages, p => p.StartsWith("Microsoft.Orleans", StringComparison.Ordinal));
        }

        Assert.DoesNotContain(Projects["ArtGrid.Imaging"].Packages, p => p.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal));
        Assert.Equal(["ArtGrid.Imaging"], Projects["ArtGrid.DecodeWorker"].References);
    }

    [Fact]
    public void OnlyHostingAndTheHostsReferenceTheServerPackages()
    {
        string[] allowed = ["ArtGrid.Hosting", "ArtGrid.Silo", "ArtGrid.Gateway", "ArtGrid.Cli", "ArtGrid.Bench"];
        foreach (Project project in Projects.Values.Where(p => !allowed.Contains(p.Name) && !p.IsTests))
        {
            Assert.DoesNotContain(project.Packages, p => p is "Microsoft.Orleans.Server" or "MassTransit.RabbitMQ" or "StackExchange.Redis");
        }
    }

    [Fact]
    public void ProductionCodeNeverReferencesTestsOrBenchAndNoProjectReferencesAnExecutable()
    {
        foreach (Project project in Projects.Values)
        {
            if (project.Directory.StartsWith(Path.Combine(Root, "src"), StringComparison.Ordinal))
            {
                Assert.All(project.References, r => Assert.StartsWith(Path.Combine(Root, "src"), Projects[r].Directory, StringComparison.Ordinal));
            }

            Assert.All(project.References, r => Assert.False(Projects[r].IsExe, $"{project.Name} references the code of {r}, an executable"));
        }
    }

    [Fact]
    public void TheReferencesFormNoCycle()
    {
        var visiting = new HashSet<string>();
        var done = new HashSet<string>();
        foreach (string name in Projects.Keys)
        {
            Visit(name, []);
        }

        void Visit(string name, List<string> path)
        {
            if (done.Contains(name))
            {
                return;
            }

            Assert.True(visiting.Add(name), $"cycle: {string.Join(" -> ", path.Append(name))}");
            foreach (string next in Projects[name].References.Concat(Projects[name].BuildsFirst))
            {
                Visit(next, [.. path, name]);
            }

            visiting.Remove(name);
            done.Add(name);
        }
    }

    [Fact]
    public void TheArchitecturePageShowsTheGraphTheProjectsHave()
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = Root };
        start.ArgumentList.Add(Path.Combine(Root, "docs", "project-graph.sh"));
        start.ArgumentList.Add("--check");
        using Process process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
    }

    [Fact]
    public void EveryLogEventIdIsUsedOnce()
    {
        string[] assemblies = ["ArtGrid.Imaging", "ArtGrid.Inference", "ArtGrid.Grains", "ArtGrid.Hosting"];
        var ids = assemblies
            .SelectMany(a => Assembly.Load(a).GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToList();

        Assert.True(ids.Count > 20, $"only {ids.Count} logging methods found");
        Assert.All(ids.GroupBy(x => x.Attribute!.EventId), g => Assert.True(g.Count() == 1, $"event id {g.Key} is used by {string.Join(", ", g.Select(x => x.Method))}"));
    }

    private sealed record Project(string Name, string Directory, bool IsExe, bool IsTests, string[] References, string[] BuildsFirst, string[] Packages)
    {
        public static Project Load(string path)
        {
            XDocument xml = XDocument.Load(path);
            string dir = Path.GetDirectoryName(path)!;
            XElement[] refs = [.. xml.Descendants("ProjectReference")];
            string Name(XElement r) => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar));
            bool OrderOnly(XElement r) => r.Attribute("ReferenceOutputAssembly")?.Value == "false";
            string? assembly = xml.Descendants("AssemblyName").FirstOrDefault()?.Value;
            return new Project(
                Path.GetFileNameWithoutExtension(path),
                dir,
                xml.Descendants("OutputType").Any(e => e.Value == "Exe") || xml.Root!.Attribute("Sdk")?.Value == "Microsoft.NET.Sdk.Web",
                xml.Descendants("IsTestProject").Any(e => e.Value == "true"),
                [.. refs.Where(r => !OrderOnly(r)).Select(Name).Order(StringComparer.Ordinal)],
                [.. refs.Where(OrderOnly).Select(Name)],
                [.. xml.Descendants("PackageReference").Select(p => p.Attribute("Include")!.Value)]);
        }
    }
}
