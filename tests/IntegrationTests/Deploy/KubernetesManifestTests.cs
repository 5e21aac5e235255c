using ArtGrid.Hosting.Messaging;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace ArtGrid.Tests.Deploy;

/// <summary>
/// The kustomize base and overlays under deploy/k8s, rendered as a cluster would receive them (kubectl kustomize when
/// kubectl is on PATH; each test prints which path ran), checked against each other and against the code: selectors,
/// probe ports, configuration keys, the grace period against the silo's drain, the queue KEDA watches, the images the
/// Dockerfiles build, what the GPU and dev overlays add. No cluster is needed.
/// </summary>
public sealed class KubernetesManifestTests(ITestOutputHelper output)
{
    public static TheoryData<string> Kustomizations => ["base", "overlays/gpu", "overlays/dev"];

    private static readonly string[] OrleansAgentVerbs = ["get", "list", "watch", "patch", "delete"];

    private static readonly HashSet<string> SecretKeys = ["redis", "rabbitmq", "gateway-admin-key-hash"];

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task EveryWorkloadSelectsItsOwnPodsAndEveryServiceAndBudgetSelectsSome(string kustomization)
    {
        IReadOnlyList<YamlMappingNode> objects = await RenderAsync(kustomization);
        List<YamlMappingNode> workloads = [.. objects.Where(o => o.Kind() is "Deployment" or "StatefulSet")];
        Assert.NotEmpty(workloads);
        foreach (YamlMappingNode workload in workloads)
        {
            IReadOnlyDictionary<string, string> selector = workload.StringEntries("spec", "selector", "matchLabels");
            IReadOnlyDictionary<string, string> labels = workload.StringEntries("spec", "template", "metadata", "labels");
            Assert.True(selector.Count > 0, $"{workload.Name()}: no selector");
            foreach ((string key, string value) in selector)
            {
                Assert.True(labels.TryGetValue(key, out string? label) && label == value, $"{workload.Name()}: selector {key}={value} is not a pod label");
            }
        }

        foreach (YamlMappingNode selecting in objects.Where(o => o.Kind() is "Service" or "PodDisruptionBudget"))
        {
            IReadOnlyDictionary<string, string> selector = selecting.Kind() == "Service"
                ? selecting.StringEntries("spec", "selector")
                : selecting.StringEntries("spec", "selector", "matchLabels");
            Assert.Contains(workloads, w => selector.All(s => w.StringEntries("spec", "template", "metadata", "labels").GetValueOrDefault(s.Key) == s.Value));
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task EveryProbeAsksAPortItsContainerDeclares(string kustomization)
    {
        IReadOnlyList<YamlMappingNode> objects = await RenderAsync(kustomization);
        int probes = 0;
        foreach ((YamlMappingNode workload, YamlNode container) in Containers(objects))
        {
            HashSet<string> ports = [.. container.Seq("ports").SelectMany(p => new[] { p.Str("name"), p.Str("containerPort") }).OfType<string>()];
            foreach (string probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
            {
                string? port = container.Str(probe, "httpGet", "port") ?? container.Str(probe, "tcpSocket", "port");
                if (port is null)
                {
                    continue;
                }

                probes++;
                Assert.True(ports.Contains(port), $"{workload.Name()}/{container.Str("name")}: {probe} asks port {port}, not one of {string.Join(", ", ports)}");
            }
        }

        Assert.True(probes >= 6, $"{probes} probes");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task ArtGridContainersSetOnlyConfigurationKeysThatExistAndSecretsTheDocsName(string kustomization)
    {
        IReadOnlyList<YamlMappingNode> objects = await RenderAsync(kustomization);
        var problems = new List<string>();
        int checkedKeys = 0;
        foreach ((YamlMappingNode workload, YamlNode container) in Containers(objects).Where(c => IsArtGrid(c.Container)))
        {
            foreach (YamlNode env in container.Seq("env"))
            {
                string name = env.Str("name")!;
                checkedKeys++;
                if (ConfigurationKeys.Check(name) is { } problem)
                {
                    problems.Add($"{workload.Name()}: {problem}");
                }

                if (env.Path2("valueFrom", "secretKeyRef") is { } secret)
                {
                    Assert.Equal("artgrid-connections", secret.Str("name"));
                    Assert.Contains(secret.Str("key")!, SecretKeys);
                }
            }
        }

        output.WriteLine($"{checkedKeys} variables checked");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
        Assert.True(checkedKeys > 20, $"{checkedKeys} variables");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task SilosGetLongerToStopThanTheirDrainAndRunOrleansKubernetesHosting(string kustomization)
    {
        IReadOnlyList<YamlMappingNode> objects = await RenderAsync(kustomization);
        YamlMappingNode silo = Silo(objects);
        YamlNode pod = silo.Path2("spec", "template")!;
        YamlNode container = pod.Seq("spec", "containers").Single(IsArtGrid);
        Dictionary<string, YamlNode> env = container.Seq("env").ToDictionary(e => e.Str("name")!);

        int shutdown = env.TryGetValue("ArtGrid__Silo__ShutdownSeconds", out YamlNode? set) ? int.Parse(set.Str("value")!) : ConfigurationKeys.ShutdownSecondsDefault;
        int grace = int.Parse(pod.Str("spec", "terminationGracePeriodSeconds")!);
        output.WriteLine($"terminationGracePeriodSeconds {grace}, ArtGrid:Silo:ShutdownSeconds {shutdown}");
        Assert.True(grace > shutdown, $"grace {grace} s is not longer than the drain's {shutdown} s");

        // Orleans' Kubernetes hosting: pod name, namespace and IP, and the ids from the pod's own labels.
        Assert.Equal("true", env["ArtGrid__Silo__Kubernetes"].Str("value"));
        Assert.Equal("metadata.name", env["POD_NAME"].Str("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].Str("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("status.podIP", env["POD_IP"].Str("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.labels['orleans/serviceId']", env["ORLEANS_SERVICE_ID"].Str("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.labels['orleans/clusterId']", env["ORLEANS_CLUSTER_ID"].Str("valueFrom", "fieldRef", "fieldPath"));
        IReadOnlyDictionary<string, string> labels = pod.StringEntries("metadata", "labels");
        Assert.True(labels.ContainsKey("orleans/serviceId") && labels.ContainsKey("orleans/clusterId"), "pod labels lack orleans/serviceId or orleans/clusterId");
        Assert.Equal("$(ORLEANS_SERVICE_ID)", env["ArtGrid__Silo__ServiceId"].Str("value"));
        Assert.Equal("$(ORLEANS_CLUSTER_ID)", env["ArtGrid__Silo__ClusterId"].Str("value"));
        Assert.Equal("$(POD_NAME)", env["ArtGrid__Silo__Name"].Str("value"));
        Assert.Equal("$(POD_IP)", env["ArtGrid__Silo__AdvertisedAddress"].Str("value"));
        Assert.Equal("0.0.0.0", env["ArtGrid__Silo__ListenAddress"].Str("value"));

        // The cluster agent's permissions, bound to the silos' service account.
        string account = pod.Str("spec", "serviceAccountName")!;
        YamlMappingNode binding = objects.Single(o => o.Kind() == "RoleBinding" && o.Seq("subjects").Any(s => s.Str("name") == account));
        YamlMappingNode role = objects.Single(o => o.Kind() == "Role" && o.Name() == binding.Str("roleRef", "name"));
        YamlNode rule = role.Seq("rules").Single(r => r.Strings("resources").Contains("pods"));
        Assert.Equal(OrleansAgentVerbs.Order(), rule.Strings("verbs").Order());

        // Probes on the health endpoints, and a startup probe that gives the model time to load.
        Assert.Equal("/health/ready", container.Str("readinessProbe", "httpGet", "path"));
        Assert.Equal("/health/live", container.Str("livenessProbe", "httpGet", "path"));
        Assert.NotNull(container.Path2("startupProbe", "httpGet"));
        Assert.Equal("true", container.Str("securityContext", "readOnlyRootFilesystem"));
        Assert.Contains(container.Seq("volumeMounts"), m => m.Str("mountPath") == "/tmp");
        Assert.Contains(objects, o => o.Kind() == "PodDisruptionBudget"
            && o.StringEntries("spec", "selector", "matchLabels").All(s => labels.GetValueOrDefault(s.Key) == s.Value));
    }

    [Theory]
    [InlineData("base")]
    [InlineData("overlays/gpu")]
    public async Task KedaScalesTheSilosOnTheQueueTheyConsume(string kustomization)
    {
        IReadOnlyList<YamlMappingNode> objects = await RenderAsync(kustomization);
        YamlMappingNode scaled = objects.Single(o => o.Kind() == "ScaledObject");
        Assert.Equal(Silo(objects).Name(), scaled.Str("spec", "scaleTargetRef", "name"));
        YamlNode trigger = scaled.Seq("spec", "triggers").Single();
        Assert.Equal("rabbitmq", trigger.Str("type"));
        Assert.Equal(new BusOptions().QueueName, trigger.Str("metadata", "queueName"));
        YamlMappingNode auth = objects.Single(o => o.Kind() == "TriggerAuthentication" && o.Name() == trigger.Str("authenticationRef", "name"));
        YamlNode host = auth.Seq("spec", "secretTargetRef").Single(r => r.Str("parameter") == "host");
        Assert.Equal("artgrid-connections", host.Str("name"));
        Assert.Equal("rabbitmq", host.Str("key"));
        output.WriteLine($"KEDA: queue {trigger.Str("metadata", "queueName")}, {trigger.Str("metadata", "value")} per silo, {scaled.Str("spec", "minReplicaCount")}..{scaled.Str("spec", "maxReplicaCount")} silos");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task EveryArtGridImageIsBuiltByADockerfileOfItsName(string kustomization)
    {
        IReadOnlyList<YamlMappingNode> objects = await RenderAsync(kustomization);
        foreach ((_, YamlNode container) in Containers(objects).Where(c => IsArtGrid(c.Container)))
        {
            string image = container.Str("image")!;
            string name = image.Split(':')[0]["artgrid/".Length..];
            Assert.True(File.Exists(Path.Combine(DeployFiles.Docker, name + ".Dockerfile")), $"{image}: no deploy/docker/{name}.Dockerfile");
        }
    }

    [Fact]
    public async Task TheGpuOverlayRunsTheCudaImageOnOneGpuOfAGpuNode()
    {
        (IReadOnlyList<YamlMappingNode> objects, string how) = await DeployFiles.RenderAsync("overlays/gpu");
        output.WriteLine(how);
        YamlNode pod;
        if (DeployFiles.Kubectl is not null)
        {
            pod = Silo(objects).Path2("spec", "template", "spec")!;
            Assert.Equal("artgrid/silo-cuda", pod.Seq("containers").Single(IsArtGrid).Str("image")!.Split(':')[0]);
        }
        else
        {
            pod = DeployFiles.ParseFile(Path.Combine(DeployFiles.Kubernetes, "overlays", "gpu", "silo-gpu.yaml")).Path2("spec", "template", "spec")!;
            YamlMappingNode kustomization = DeployFiles.ParseFile(Path.Combine(DeployFiles.Kubernetes, "overlays", "gpu", "kustomization.yaml"));
            Assert.Contains(kustomization.Seq("images"), i => i.Str("name") == "artgrid/silo" && i.Str("newName") == "artgrid/silo-cuda");
        }

        YamlNode container = pod.Seq("containers").Single(c => c.Str("name") == "silo");
        Assert.True(int.Parse(container.Str("resources", "limits", "nvidia.com/gpu")!) >= 1);
        Assert.Contains(container.Seq("env"), e => e.Str("name") == "ArtGrid__Inference__Devices__0" && e.Str("value")!.StartsWith("cuda:", StringComparison.Ordinal));
        Assert.True(pod.StringEntries("nodeSelector").Keys.Any(k => k.StartsWith("nvidia.com/", StringComparison.Ordinal)), "no GPU node selector");
        Assert.Contains(pod.Seq("tolerations"), t => t.Str("key") == "nvidia.com/gpu");
    }

    [Fact]
    public async Task TheDevOverlayBringsItsOwnServersAndTheSecretThatPointsAtThemWithoutKeda()
    {
        (IReadOnlyList<YamlMappingNode> objects, string how) = await DeployFiles.RenderAsync("overlays/dev");
        output.WriteLine(how);
        string[] statefulSets = [.. objects.Where(o => o.Kind() == "StatefulSet").Select(o => o.Name()).Order()];
        Assert.Equal(new[] { "artgrid-rabbitmq", "artgrid-redis" }, statefulSets);
        YamlNode redis = objects.Single(o => o.Name() == "artgrid-redis" && o.Kind() == "StatefulSet").Path2("spec", "template", "spec")!.Seq("containers").Single();
        Assert.Contains("--appendonly", redis.Strings("args"));
        if (DeployFiles.Kubectl is null)
        {
            return; // The Secret comes from a generator and the KEDA objects leave by patch: kustomize is needed to see either.
        }

        Assert.DoesNotContain(objects, o => o.Kind() is "ScaledObject" or "TriggerAuthentication");
        YamlMappingNode secret = objects.Single(o => o.Kind() == "Secret");
        Assert.Equal("artgrid-connections", secret.Name());
        Dictionary<string, string> data = secret.StringEntries("data").ToDictionary(kv => kv.Key, kv => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(kv.Value)));
        Assert.Equal(SecretKeys.Order(), data.Keys.Order());
        HashSet<string> services = [.. objects.Where(o => o.Kind() == "Service").Select(o => o.Name())];
        Assert.Contains(data["redis"].Split(':')[0], services);
        Assert.Contains(new Uri(data["rabbitmq"]).Host, services);
        Assert.Matches("^[0-9a-f]{64}$", data["gateway-admin-key-hash"]);
    }

    private async Task<IReadOnlyList<YamlMappingNode>> RenderAsync(string kustomization)
    {
        (IReadOnlyList<YamlMappingNode> objects, string how) = await DeployFiles.RenderAsync(kustomization);
        output.WriteLine($"{kustomization}: {objects.Count} objects, {how}");
        return objects;
    }

    private static bool IsArtGrid(YamlNode container) => container.Str("image")?.StartsWith("artgrid/", StringComparison.Ordinal) == true;

    private static YamlMappingNode Silo(IEnumerable<YamlMappingNode> objects) =>
        objects.Single(o => o.Kind() == "Deployment" && o.Path2("spec", "template", "spec").Seq("containers").Any(c => c.Str("image")!.StartsWith("artgrid/silo", StringComparison.Ordinal)));

    private static IEnumerable<(YamlMappingNode Workload, YamlNode Container)> Containers(IEnumerable<YamlMappingNode> objects) =>
        objects.Where(o => o.Kind() is "Deployment" or "StatefulSet")
            .SelectMany(w => w.Path2("spec", "template", "spec").Seq("containers").Select(c => (w, c)));
}
