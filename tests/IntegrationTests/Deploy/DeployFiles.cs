using System.Diagnostics;
using ArtGrid.Tests.Cluster;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ArtGrid.Tests.Deploy;

/// <summary>
/// The deployment files under deploy/, read as YAML (anchors and merge keys resolved), and the Kubernetes objects of a
/// kustomization: rendered by <c>kubectl kustomize</c> when kubectl is on PATH (<see cref="Kubectl"/>), else the raw YAML of the base and of the
/// overlay's own resources (patches are not applied then; the tests read them apart).
/// </summary>
public static class DeployFiles
{
    public static string Deploy => Path.Combine(TestAssets.RepositoryRoot, "deploy");

    public static string Docker => Path.Combine(Deploy, "docker");

    public static string Kubernetes => Path.Combine(Deploy, "k8s");

    public static IReadOnlyList<YamlMappingNode> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(new StringReader(yaml))));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    public static YamlMappingNode ParseFile(string path) => Parse(File.ReadAllText(path)).Single();

    /// <summary>The objects of deploy/k8s/<paramref name="kustomization"/> and how they were obtained.</summary>
    public static async Task<(IReadOnlyList<YamlMappingNode> Objects, string How)> RenderAsync(string kustomization)
    {
        string folder = Path.Combine(Kubernetes, kustomization);
        string? kubectl = Kubectl;
        if (kubectl is not null)
        {
            (int exit, string stdout, string stderr) = await RunAsync(kubectl, "kustomize", folder);
            Assert.True(exit == 0, $"kubectl kustomize {kustomization} failed ({exit}): {stderr}");
            return (Parse(stdout), $"rendered with {kubectl} kustomize");
        }

        var objects = new List<YamlMappingNode>();
        foreach (string file in RawResourceFiles(folder))
        {
            objects.AddRange(Parse(File.ReadAllText(file)));
        }

        return (objects, "no kubectl (PATH, ARTGRID_KUBECTL): raw YAML of the resources, patches not applied");
    }

    /// <summary>The resource files a kustomization lists, those of the kustomizations it lists first.</summary>
    public static IEnumerable<string> RawResourceFiles(string folder)
    {
        YamlMappingNode kustomization = ParseFile(Path.Combine(folder, "kustomization.yaml"));
        foreach (string resource in kustomization.Strings("resources"))
        {
            string path = Path.GetFullPath(Path.Combine(folder, resource));
            if (Directory.Exists(path))
            {
                foreach (string file in RawResourceFiles(path))
                {
                    yield return file;
                }
            }
            else
            {
                yield return path;
            }
        }
    }

    /// <summary>
    /// kubectl from PATH; <c>ARTGRID_KUBECTL</c> names another one, or, set empty, none (to run the raw-YAML path on a
    /// machine that has kubectl).
    /// </summary>
    public static string? Kubectl => Environment.GetEnvironmentVariable("ARTGRID_KUBECTL") is { } chosen
        ? (chosen.Length == 0 ? null : chosen)
        : OnPath("kubectl");

    public static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string program, params string[] args) =>
        await RunAsync(program, new Dictionary<string, string>(), args);

    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string program, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestAssets.RepositoryRoot,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach ((string key, string value) in environment)
        {
            start.Environment[key] = value;
        }

        return await TestProcesses.RunAsync(start);
    }

    // YAML navigation: null where a key is missing.

    public static YamlNode? Get(this YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? value : null;

    public static YamlNode? Path2(this YamlNode? node, params string[] keys) => keys.Aggregate(node, (n, k) => n.Get(k));

    public static string? Str(this YamlNode? node, params string[] keys) => (node.Path2(keys) as YamlScalarNode)?.Value;

    public static IReadOnlyList<YamlNode> Seq(this YamlNode? node, params string[] keys) =>
        node.Path2(keys) is YamlSequenceNode seq ? [.. seq.Children] : [];

    public static IReadOnlyList<string> Strings(this YamlNode? node, params string[] keys) =>
        [.. node.Seq(keys).OfType<YamlScalarNode>().Select(s => s.Value!)];

    public static IReadOnlyDictionary<string, YamlNode> Entries(this YamlNode? node, params string[] keys) =>
        node.Path2(keys) is YamlMappingNode map
            ? map.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => kv.Value)
            : new Dictionary<string, YamlNode>();

    public static IReadOnlyDictionary<string, string> StringEntries(this YamlNode? node, params string[] keys) =>
        node.Entries(keys).Where(kv => kv.Value is YamlScalarNode).ToDictionary(kv => kv.Key, kv => ((YamlScalarNode)kv.Value).Value ?? "");

    public static string Kind(this YamlNode node) => node.Str("kind") ?? "";

    public static string Name(this YamlNode node) => node.Str("metadata", "name") ?? "";
}
