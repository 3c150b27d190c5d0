using System.Text.Json;
using NodeFleet.Cluster.Kubernetes;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Kubernetes;
using NodeFleet.Core.Ports;
using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>
/// The scheduling fields as the official client reads them over real HTTP from the emulated API
/// (KubernetesModels' mapping), with kubectl as a second client and the testbed's scheduler as the
/// oracle: what the product reads is what the API serves, and what the scheduler does with it.
/// </summary>
public sealed class KubernetesSchedulingTests : IAsyncLifetime
{
    private readonly ClusterModel cluster = new();
    private KubeApiServer server = null!;
    private string kubeconfig = "";
    private string directory = "";

    public async Task InitializeAsync()
    {
        server = await KubeApiServer.StartAsync(cluster);
        directory = Path.Combine(Path.GetTempPath(), $"scheduling-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        kubeconfig = Path.Combine(directory, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, server.Kubeconfig());
    }

    public async Task DisposeAsync()
    {
        Directory.Delete(directory, recursive: true);
        await server.DisposeAsync();
    }

    private KubernetesApi Api(string token = KubeApiServer.NodeFleetToken, int pageSize = KubernetesApi.DefaultPageSize) =>
        new(KubernetesConnection.CreateClient(server.Url, token, server.Certificates.AuthorityPem, TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(5), pageSize);

    private string Kubectl(params string[] args) => Tool.Run("kubectl", ["--kubeconfig", kubeconfig, .. args]);

    private JsonElement KubectlJson(params string[] args) => JsonDocument.Parse(Kubectl([.. args, "-o", "json"])).RootElement.Clone();

    private async Task<ClusterPod> ReadPodAsync(string name) => (await Api().ListPodsAsync(default)).Single(p => p.Name == name);

    private const string EveryField = """
        {
          "containers": [{"name": "app", "image": "app:1", "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}},
            "ports": [{"containerPort": 8080, "hostPort": 8080}, {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"}, {"containerPort": 9090}]}],
          "initContainers": [
            {"name": "setup", "image": "setup:1", "ports": [{"containerPort": 9000, "hostPort": 9000}]},
            {"name": "proxy", "image": "proxy:1", "restartPolicy": "Always", "ports": [{"containerPort": 15001, "hostPort": 15001}]}],
          "overhead": {"cpu": "50m", "memory": "16Mi"},
          "nodeSelector": {"pool": "general"},
          "affinity": {
            "nodeAffinity": {
              "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1b"]}, {"key": "gpu", "operator": "DoesNotExist"}],
                 "matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["w9"]}]},
                {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["3"]}]}]},
              "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": [{"key": "fast", "operator": "Exists"}]}}]},
            "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
              {"labelSelector": {"matchLabels": {"app": "cache"}}, "namespaces": ["data"], "topologyKey": "topology.kubernetes.io/zone"}]},
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
              {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}, "namespaceSelector": {"matchLabels": {"team": "shop"}}, "topologyKey": "kubernetes.io/hostname"}]}},
          "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
            {"operator": "Exists"},
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
          "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}},
             "minDomains": 2, "matchLabelKeys": ["pod-template-hash"], "nodeAffinityPolicy": "Ignore", "nodeTaintsPolicy": "Honor"},
            {"maxSkew": 2, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}],
          "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}}, {"name": "cache", "emptyDir": {}}],
          "securityContext": {"runAsNonRoot": true}
        }
        """;

    [Fact]
    public async Task ListPodsAsync_PodWithEveryConstraint_ReadsEachFieldAsServed()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-0", Phase = "Pending", OwnerName = "web-7c9", Spec = PodSpec.Parse(EveryField) });

        var pod = await ReadPodAsync("web-0");
        var seen = KubectlJson("get", "pod", "-n", "shop", "web-0").GetProperty("spec");
        var scheduling = pod.Scheduling;

        Assert.Equal(new Dictionary<string, string> { ["pool"] = "general" }, scheduling.NodeSelector);
        Assert.Equivalent(new[]
        {
            new NodeSelectorTerm
            {
                MatchExpressions =
                [
                    new NodeSelectorRequirement { Key = "topology.kubernetes.io/zone", Operator = "In", Values = ["us-east-1b"] },
                    new NodeSelectorRequirement { Key = "gpu", Operator = "DoesNotExist" },
                ],
                MatchFields = [new NodeSelectorRequirement { Key = "metadata.name", Operator = "NotIn", Values = ["w9"] }],
            },
            new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = "cores", Operator = "Gt", Values = ["3"] }] },
        }, scheduling.RequiredNodeAffinity, strict: true);
        Assert.Equal(
        [
            new Toleration { Key = "dedicated", Operator = "Equal", Value = "web", Effect = "NoSchedule" },
            new Toleration { Operator = "Exists" },
            new Toleration { Key = "node.kubernetes.io/not-ready", Operator = "Exists", Effect = "NoExecute" },
        ], scheduling.Tolerations);
        var (zone, host) = (scheduling.TopologySpread[0], scheduling.TopologySpread[1]);
        Assert.Equal(("topology.kubernetes.io/zone", 1, "DoNotSchedule", 2, "Ignore", "Honor"), (zone.TopologyKey, zone.MaxSkew, zone.WhenUnsatisfiable, zone.MinDomains, zone.NodeAffinityPolicy, zone.NodeTaintsPolicy));
        Assert.Equal(["pod-template-hash"], zone.MatchLabelKeys);
        Assert.True(zone.Selector!.Matches(new Dictionary<string, string> { ["app"] = "web" }));
        Assert.Equal(("kubernetes.io/hostname", 2, "ScheduleAnyway", (int?)null, "Honor", "Ignore", (LabelSelector?)null),
            (host.TopologyKey, host.MaxSkew, host.WhenUnsatisfiable, host.MinDomains, host.NodeAffinityPolicy, host.NodeTaintsPolicy, host.Selector));
        var anti = Assert.Single(scheduling.RequiredPodAntiAffinity);
        Assert.Equal(("kubernetes.io/hostname", 0), (anti.TopologyKey, anti.Namespaces.Count));
        Assert.True(anti.Selector!.Matches(new Dictionary<string, string> { ["app"] = "web" }));
        Assert.Equal(new Dictionary<string, string> { ["team"] = "shop" }, anti.NamespaceSelector!.MatchLabels);
        var affinity = Assert.Single(scheduling.RequiredPodAffinity);
        Assert.Equal(("topology.kubernetes.io/zone", (LabelSelector?)null), (affinity.TopologyKey, affinity.NamespaceSelector));
        Assert.Equal(["data"], affinity.Namespaces);
        // The app container's and the sidecar's, not the ordinary init container's (gone before the pod runs).
        Assert.Equal(
        [
            new HostPort { Port = 15001 },
            new HostPort { Port = 8080 },
            new HostPort { Port = 53, Protocol = "UDP", HostIp = "10.0.0.1" },
        ], scheduling.HostPorts);
        Assert.Equal(["data-web-0"], scheduling.ClaimNames);
        Assert.True(pod.HasLocalStorage);
        Assert.Equal((550, (256L + 16) << 20), (pod.CpuMillis, pod.MemoryBytes));
        Assert.Equal(("ReplicaSet", "web-7c9"), (pod.OwnerKind, pod.OwnerName));
        // kubectl, a second client, reads the same spec, and the fields the testbed does not model are kept as given.
        Assert.Equal(15001, seen.GetProperty("initContainers")[1].GetProperty("ports")[0].GetProperty("hostPort").GetInt32());
        Assert.Equal("Honor", seen.GetProperty("topologySpreadConstraints")[0].GetProperty("nodeTaintsPolicy").GetString());
        Assert.True(seen.GetProperty("securityContext").GetProperty("runAsNonRoot").GetBoolean());
        Assert.Equal(1, seen.GetProperty("affinity").GetProperty("nodeAffinity").GetProperty("preferredDuringSchedulingIgnoredDuringExecution")[0].GetProperty("weight").GetInt32());
    }

    [Theory]
    [InlineData("""[{"cpu":"250m","memory":"128Mi"},{"cpu":"0.5","memory":"256Mi"}]""", "[]", null, 750, 384L << 20)]
    [InlineData("""[{"cpu":"500m","memory":"256Mi"}]""", """[{"cpu":"2","memory":"1Gi"}]""", null, 2000, 1L << 30)]
    [InlineData("""[{"cpu":"500m","memory":"256Mi"}]""", """[{"cpu":"200m","memory":"64Mi"}]""", null, 500, 256L << 20)]
    [InlineData("""[{"cpu":"500m","memory":"128Mi"}]""", """[{"cpu":"200m","memory":"64Mi","sidecar":true}]""", null, 700, 192L << 20)]
    [InlineData("""[{"cpu":"500m","memory":"128Mi"}]""", """[{"cpu":"200m","memory":"64Mi","sidecar":true},{"cpu":"1","memory":"512Mi"}]""", null, 1200, 576L << 20)]
    [InlineData("""[{"cpu":"500m","memory":"128Mi"}]""", """[{"cpu":"1","memory":"512Mi"},{"cpu":"200m","memory":"64Mi","sidecar":true}]""", null, 1000, 512L << 20)]
    [InlineData("""[{"cpu":"500m","memory":"128Mi"}]""", "[]", """{"cpu":"100m","memory":"32Mi"}""", 600, 160L << 20)]
    [InlineData("""[{"cpu":"500m","memory":"128Mi"}]""", """[{"cpu":"2","memory":"64Mi"}]""", """{"cpu":"100m"}""", 2100, 128L << 20)]
    [InlineData("""[{"cpu":1,"memory":1073741824}]""", "[]", null, 1000, 1L << 30)]
    [InlineData("""[{"cpu":"1500u","memory":"1e3"}]""", "[]", null, 2, 1000)]
    [InlineData("""[{}]""", "[]", null, 0, 0)]
    public async Task ListPodsAsync_Requests_AreTheDocumentedFormulaInTheProductAndTheTestbed(string containers, string initContainers, string? overhead, long cpu, long memory)
    {
        // Resource management for pods and Sidecar containers: max(app containers + sidecars, each init
        // container beside the sidecars started before it) + overhead; quantities rounded up.
        static string Containers(string list, string prefix) => string.Join(",", JsonDocument.Parse(list).RootElement.EnumerateArray().Select((c, i) =>
        {
            var requests = string.Join(",", c.EnumerateObject().Where(p => p.Name != "sidecar").Select(p => $"\"{p.Name}\":{p.Value.GetRawText()}"));
            var sidecar = c.TryGetProperty("sidecar", out _) ? ",\"restartPolicy\":\"Always\"" : "";
            return $"{{\"name\":\"{prefix}{i}\",\"image\":\"i:1\",\"resources\":{{\"requests\":{{{requests}}}}}{sidecar}}}";
        }));
        var spec = PodSpec.Parse($"{{\"containers\":[{Containers(containers, "c")}],\"initContainers\":[{Containers(initContainers, "i")}]"
            + (overhead is null ? "" : $",\"overhead\":{overhead}") + "}");
        var testbed = new TestPod { Namespace = "shop", Name = "sized", Phase = "Pending", Spec = spec };
        cluster.Add(testbed);

        var pod = await ReadPodAsync("sized");

        Assert.Equal((cpu, memory), (pod.CpuMillis, pod.MemoryBytes));
        Assert.Equal((cpu, memory), (testbed.CpuMillis, testbed.MemoryBytes));
    }

    [Fact]
    public async Task ListPodsAsync_UnschedulablePod_CarriesTheConditionInTheSchedulersWords()
    {
        cluster.Add(TestNode.ControlPlane());
        cluster.Add(new TestNode { Name = "w1", Labels = { ["pool"] = "general" } });
        cluster.Add(new TestNode { Name = "w2", Labels = { ["pool"] = "general" }, CpuMillis = 500 });
        cluster.Add(new TestPod { Namespace = "shop", Name = "gpu-job", Phase = "Pending", Spec = PodSpec.Parse("""{"containers":[{"name":"a","image":"a"}],"nodeSelector":{"pool":"gpu"}}""") });
        cluster.Add(new TestPod { Namespace = "shop", Name = "big", Phase = "Pending", CpuMillis = 1000 });
        cluster.Add(new TestPod { Namespace = "shop", Name = "huge", Phase = "Pending", CpuMillis = 4000 });

        cluster.Schedule();
        var pods = (await Api().ListPodsAsync(default)).ToDictionary(p => p.Name);
        var condition = KubectlJson("get", "pod", "-n", "shop", "huge").GetProperty("status").GetProperty("conditions")[0];

        Assert.True(pods["gpu-job"].Unschedulable);
        Assert.True(pods["huge"].Unschedulable);
        Assert.False(pods["big"].Unschedulable);
        Assert.Equal("w1", pods["big"].NodeName);
        Assert.Equal(("PodScheduled", "False", "Unschedulable"), (condition.GetProperty("type").GetString(), condition.GetProperty("status").GetString(), condition.GetProperty("reason").GetString()));
        Assert.Equal(
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: true}, 2 Insufficient cpu. "
            + "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
            condition.GetProperty("message").GetString());
        Assert.Contains("2 node(s) didn't match Pod's node affinity/selector", Kubectl("get", "pod", "-n", "shop", "gpu-job", "-o", "jsonpath={.status.conditions[0].message}"), StringComparison.Ordinal);
        Assert.Equal("True", Kubectl("get", "pod", "-n", "shop", "big", "-o", "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].status}"));
    }

    [Fact]
    public async Task ListStorageAndDaemonSets_MoreThanAPage_ReadEveryPageAsKubectlDoes()
    {
        for (var i = 0; i < 7; i++)
        {
            cluster.Add(i % 2 == 0 ? TestVolume.InZone($"pv-{i}", "us-east-1b") : new TestVolume { Name = $"pv-{i}" });
            cluster.Add(new TestClaim { Namespace = i < 4 ? "shop" : "data", Name = $"claim-{i}", VolumeName = i == 6 ? null : $"pv-{i}" });
        }

        for (var i = 0; i < 5; i++)
        {
            cluster.Add(new TestDaemonSet
            {
                Namespace = "kube-system", Name = $"agent-{i}", Labels = { ["app"] = $"agent-{i}" },
                Spec = PodSpec.Parse($$$$"""
                    {"containers":[{"name":"agent","image":"agent:1","resources":{"requests":{"cpu":"{{{{50 * (i + 1)}}}}m","memory":"32Mi"}}}],
                     "initContainers":[{"name":"init","image":"init:1","resources":{"requests":{"cpu":"1","memory":"16Mi"}}}],
                     "nodeSelector":{"kubernetes.io/os":"linux"},
                     "tolerations":[{"operator":"Exists"}]}
                    """),
            });
        }

        var api = Api(pageSize: 3);
        var volumes = await api.ListPersistentVolumesAsync(default);
        var claims = await api.ListPersistentVolumeClaimsAsync(default);
        var daemonSets = await api.ListDaemonSetsAsync(default);

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"pv-{i}"), volumes.Select(v => v.Name));
        Assert.Equivalent(new[] { new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = "topology.kubernetes.io/zone", Operator = "In", Values = ["us-east-1b"] }] } },
            volumes.Single(v => v.Name == "pv-2").RequiredNodeAffinity, strict: true);
        Assert.Null(volumes.Single(v => v.Name == "pv-1").RequiredNodeAffinity);
        Assert.Equal(new ClaimInfo("shop", "claim-3", "pv-3"), claims.Single(c => c.Name == "claim-3"));
        Assert.Equal(new ClaimInfo("data", "claim-6", null), claims.Single(c => c.Name == "claim-6"));
        Assert.Equal(7, claims.Count);
        var agent = daemonSets.Single(d => d.Name == "agent-2");
        Assert.Equal(("kube-system", 1000L, 32L << 20), (agent.Namespace, agent.CpuMillis, agent.MemoryBytes)); // the init container's core counts
        Assert.Equal(new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" }, agent.Scheduling.NodeSelector);
        Assert.Equal([new Toleration { Operator = "Exists" }], agent.Scheduling.Tolerations);
        Assert.Equal(5, daemonSets.Count);
        foreach (var path in new[] { "/api/v1/persistentvolumes", "/api/v1/persistentvolumeclaims", "/apis/apps/v1/daemonsets" })
        {
            var pages = server.Requests.Where(r => r.Path == path).ToList();
            Assert.True(pages.Count >= 2, path);
            Assert.All(pages, r => Assert.Equal("3", r.Query["limit"]));
            Assert.Equal(pages.Count - 1, pages.Count(r => r.Query.ContainsKey("continue")));
        }

        Assert.Equal(7, KubectlJson("get", "pv", "--chunk-size", "2").GetProperty("items").GetArrayLength());
        Assert.Equal(["Bound", "Pending"], KubectlJson("get", "pvc", "-A").GetProperty("items").EnumerateArray()
            .Select(c => c.GetProperty("status").GetProperty("phase").GetString()).Distinct().Order());
        Assert.Equal(5, KubectlJson("get", "daemonsets", "-n", "kube-system").GetProperty("items").GetArrayLength());
    }

    private const string ConstrainedManifest = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: api-0
          namespace: shop
          labels: {app: api}
          ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-5d8, uid: rs-1, controller: true}]
        spec:
          nodeSelector: {pool: general}
          tolerations: [{key: dedicated, operator: Equal, value: api, effect: NoSchedule}]
          affinity:
            podAntiAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
              - labelSelector: {matchLabels: {app: api}}
                topologyKey: kubernetes.io/hostname
          topologySpreadConstraints:
          - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: api}}}
          containers:
          - name: api
            image: api:1
            resources: {requests: {cpu: 1, memory: 512Mi}}
            ports: [{containerPort: 8443, hostPort: 8443}]
          volumes:
          - name: data
            persistentVolumeClaim: {claimName: api-data}
        """;

    [Fact]
    public async Task KubectlApply_ConstrainedPod_IsReadBackByTheAdapterAndBoundWhereItMayRun()
    {
        // b1 is in the volume's zone but holds an api pod (anti-affinity); b2 lacks the pool label; b3 is
        // tainted for api pods, which tolerate it; a1 is in the wrong zone for the volume.
        cluster.Add(new TestNode { Name = "a1", Labels = { ["pool"] = "general", ["topology.kubernetes.io/zone"] = "us-east-1a" } });
        cluster.Add(new TestNode { Name = "b1", Labels = { ["pool"] = "general", ["topology.kubernetes.io/zone"] = "us-east-1b" } });
        cluster.Add(new TestNode { Name = "b2", Labels = { ["topology.kubernetes.io/zone"] = "us-east-1b" } });
        cluster.Add(new TestNode
        {
            Name = "b3", Labels = { ["pool"] = "general", ["topology.kubernetes.io/zone"] = "us-east-1b" },
            Taints = { new TestTaint("dedicated", "NoSchedule") { Value = "api" } },
        });
        cluster.Add(new TestPod { Namespace = "shop", Name = "api-old", NodeName = "b1", Labels = { ["app"] = "api" } });
        cluster.Add(new TestPod { Namespace = "shop", Name = "api-a", NodeName = "a1", Labels = { ["app"] = "api" } });
        cluster.Add(TestVolume.InZone("vol-b", "us-east-1b"));
        cluster.Add(new TestClaim { Namespace = "shop", Name = "api-data", VolumeName = "vol-b" });
        var manifest = Path.Combine(directory, "api.yaml");
        await File.WriteAllTextAsync(manifest, ConstrainedManifest);

        var applied = Kubectl("apply", "-f", manifest);
        var pending = await ReadPodAsync("api-0");
        cluster.Schedule();
        var bound = await ReadPodAsync("api-0");

        Assert.Equal("pod/api-0 created", applied.Trim());
        Assert.Null(pending.NodeName);
        Assert.Equal(("ReplicaSet", "api-5d8"), (pending.OwnerKind, pending.OwnerName));
        Assert.Equal(new Dictionary<string, string> { ["pool"] = "general" }, pending.Scheduling.NodeSelector);
        Assert.Equal([new Toleration { Key = "dedicated", Operator = "Equal", Value = "api", Effect = "NoSchedule" }], pending.Scheduling.Tolerations);
        Assert.Equal("kubernetes.io/hostname", Assert.Single(pending.Scheduling.RequiredPodAntiAffinity).TopologyKey);
        Assert.Equal(("topology.kubernetes.io/zone", "DoNotSchedule"), (pending.Scheduling.TopologySpread[0].TopologyKey, pending.Scheduling.TopologySpread[0].WhenUnsatisfiable));
        Assert.Equal([new HostPort { Port = 8443 }], pending.Scheduling.HostPorts);
        Assert.Equal(["api-data"], pending.Scheduling.ClaimNames);
        Assert.Equal((1000, 512L << 20), (pending.CpuMillis, pending.MemoryBytes));
        Assert.True(pending.Annotations.ContainsKey("kubectl.kubernetes.io/last-applied-configuration"));
        Assert.Equal("b3", bound.NodeName);
        Assert.False(bound.Unschedulable);
    }

    [Theory]
    [InlineData("containers: [{name: app, image: app:1}]\n  topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]",
        "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero")]
    [InlineData("containers: [{name: app, image: app:1}]\n  tolerations: [{operator: Equal, value: x}]",
        "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty")]
    [InlineData("containers: [{name: app, image: app:1}]\n  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: cores, operator: Gt, values: [\"1\", \"2\"]}]}]}}}",
        "matchExpressions[0].values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'")]
    [InlineData("containers: [{name: app}]", "spec.containers[0].image: Required value")]
    public void KubectlCreate_InvalidPod_IsRefusedWithTheApiWordsAndNotCreated(string spec, string error)
    {
        var manifest = Path.Combine(directory, "bad.yaml");
        File.WriteAllText(manifest, $"apiVersion: v1\nkind: Pod\nmetadata: {{name: bad, namespace: shop}}\nspec:\n  {spec}\n");

        var refused = Assert.Throws<InvalidOperationException>(() => Kubectl("create", "-f", manifest));

        Assert.Contains("Pod \"bad\" is invalid", refused.Message, StringComparison.Ordinal);
        Assert.Contains(error, refused.Message, StringComparison.Ordinal);
        Assert.Empty(cluster.Read((_, pods, _) => pods.ToList()));
    }

    [Fact]
    public void KubectlCreate_TwiceOrWithAnUnknownPriorityClass_IsRefused()
    {
        var manifest = Path.Combine(directory, "pod.yaml");
        File.WriteAllText(manifest, "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec: {containers: [{name: app, image: app:1}]}\n");
        var classy = Path.Combine(directory, "classy.yaml");
        File.WriteAllText(classy, "apiVersion: v1\nkind: Pod\nmetadata: {name: classy, namespace: shop}\nspec: {priorityClassName: gold, containers: [{name: app, image: app:1}]}\n");
        var critical = Path.Combine(directory, "critical.yaml");
        File.WriteAllText(critical, "apiVersion: v1\nkind: Pod\nmetadata: {name: agent, namespace: kube-system}\nspec: {priorityClassName: system-node-critical, containers: [{name: app, image: app:1}]}\n");

        Kubectl("create", "-f", manifest);
        var again = Assert.Throws<InvalidOperationException>(() => Kubectl("create", "-f", manifest));
        var unknown = Assert.Throws<InvalidOperationException>(() => Kubectl("create", "-f", classy));
        Kubectl("create", "-f", critical);

        Assert.Contains("pods \"web\" already exists", again.Message, StringComparison.Ordinal);
        Assert.Contains("no PriorityClass with name gold was found", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(2000001000, cluster.Read((_, pods, _) => pods.Single(p => p.Name == "agent").Spec.Priority));
    }

    [Fact]
    public async Task DaemonSet_RunsAPodOnEveryNodeItSelects_PinnedAndTakingItsShareFirst()
    {
        // The agent is system-node-critical (scheduled before the workload) and skips nodes labelled
        // no-agent; gpu nodes carry a taint it does not tolerate; cordoned nodes still get it.
        cluster.Add(new TestNode { Name = "w1" });
        cluster.Add(new TestNode { Name = "w2", Labels = { ["no-agent"] = "true" } });
        cluster.Add(new TestNode { Name = "gpu", Taints = { new TestTaint("nvidia.com/gpu", "NoSchedule") { Value = "true" } } });
        cluster.Add(new TestNode { Name = "cordoned", Unschedulable = true });
        cluster.Add(new TestDaemonSet
        {
            Namespace = "monitoring", Name = "agent", Labels = { ["app"] = "agent" },
            Spec = PodSpec.Parse("""
                {"priorityClassName":"system-node-critical",
                 "containers":[{"name":"agent","image":"agent:1","resources":{"requests":{"cpu":"500m","memory":"64Mi"}}}],
                 "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"no-agent","operator":"DoesNotExist"}]}]}}}}
                """),
        });
        cluster.Add(new TestPod { Namespace = "shop", Name = "fill", Phase = "Pending", CpuMillis = 1600 });

        cluster.Schedule();
        var pods = (await Api().ListPodsAsync(default)).ToDictionary(p => p.Name);
        var daemonSet = KubectlJson("get", "daemonset", "-n", "monitoring", "agent").GetProperty("status");
        cluster.Add(new TestNode { Name = "w3" });
        cluster.Schedule();
        var joined = cluster.Read((_, all, _) => all.SingleOrDefault(p => p.Name == "agent-w3"));

        Assert.Equal(["agent-cordoned", "agent-w1"], pods.Keys.Where(k => k.StartsWith("agent-", StringComparison.Ordinal)).Order());
        Assert.Equal(("w1", "DaemonSet", "agent"), (pods["agent-w1"].NodeName, pods["agent-w1"].OwnerKind, pods["agent-w1"].OwnerName));
        Assert.Equal("cordoned", pods["agent-cordoned"].NodeName);
        var pinned = Assert.Single(pods["agent-w1"].Scheduling.RequiredNodeAffinity!);
        Assert.Equivalent(new NodeSelectorRequirement { Key = "metadata.name", Operator = "In", Values = ["w1"] }, Assert.Single(pinned.MatchFields), strict: true);
        Assert.Contains(new Toleration { Key = "node.kubernetes.io/unschedulable", Operator = "Exists", Effect = "NoSchedule" }, pods["agent-w1"].Scheduling.Tolerations);
        // w1 has 1.5 cores left after the agent, so the workload pod goes to w2.
        Assert.Equal("w2", pods["fill"].NodeName);
        Assert.Equal((2, 2, 2), (daemonSet.GetProperty("desiredNumberScheduled").GetInt32(), daemonSet.GetProperty("currentNumberScheduled").GetInt32(), daemonSet.GetProperty("numberReady").GetInt32()));
        Assert.Equal("w3", joined?.NodeName);
    }

    [Fact]
    public void DaemonSet_NotReadyNode_GetsItsPodOnceReady()
    {
        cluster.Add(new TestNode { Name = "w1", Ready = false });
        cluster.Add(new TestDaemonSet { Namespace = "monitoring", Name = "agent", Spec = PodSpec.Parse("""{"containers":[{"name":"a","image":"a"}]}""") });

        cluster.Schedule();
        var whileNotReady = cluster.Read((_, pods, _) => pods.Count);
        cluster.SetReady("w1", true);
        cluster.Schedule();

        Assert.Equal(0, whileNotReady); // the not-ready taint is NoSchedule, which DaemonSet pods do not tolerate
        Assert.Equal("w1", cluster.Read((_, pods, _) => pods.Single().NodeName));
    }

    [Fact]
    public async Task NodeFleetToken_MayDoWhatItsClusterRoleGrantsAndNothingElse()
    {
        cluster.Add(new TestNode { Name = "w1" });
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-1", NodeName = "w1" });
        var api = Api(KubeApiServer.NodeFleetToken);
        var mark = new CordonMark { ExecutionId = "exec-1", Reason = CordonReason.ScaleDown, At = DateTimeOffset.UnixEpoch };

        await api.ListNodesAsync(null, default);
        await api.GetNodeAsync("w1", default);
        await api.ListPodsAsync(default);
        await api.ListPodsOnNodeAsync("w1", default);
        await api.ListDisruptionBudgetsAsync(default);
        await api.ListPersistentVolumeClaimsAsync(default);
        await api.ListPersistentVolumesAsync(default);
        await api.ListDaemonSetsAsync(default);
        await api.CordonAsync("w1", mark, default);
        await api.UncordonAsync("w1", default);
        Assert.Equal(EvictionResult.Evicted, (await api.EvictAsync("shop", "web-1", default)).Result);
        await api.DeleteNodeAsync("w1", default);
        var kubeconfigForSteps = Path.Combine(directory, "steps");
        await File.WriteAllTextAsync(kubeconfigForSteps, server.Kubeconfig(KubeApiServer.NodeFleetToken));
        var refused = Assert.Throws<InvalidOperationException>(() => Tool.Run("kubectl", ["--kubeconfig", kubeconfigForSteps, "get", "pod", "-n", "shop", "web-1-r"]));

        Assert.Contains("cannot get resource \"pods\" in API group \"\" in the namespace \"shop\"", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NodeFleetRules_AreTheClusterRoleTheMasterApplies()
    {
        // scripts/master-user-data.sh applies the ClusterRole the steps run under; the testbed grants their token exactly that.
        var script = File.ReadAllText(Path.Combine(LocalEnvironment.RepositoryRoot, "scripts", "master-user-data.sh"));
        var role = script[script.IndexOf("kind: ClusterRole\nmetadata: {name: nodefleet}", StringComparison.Ordinal)..];
        role = role[..role.IndexOf("---", StringComparison.Ordinal)];
        var rules = System.Text.RegularExpressions.Regex.Matches(role, @"- \{apiGroups: \[(?<groups>[^\]]*)\], resources: \[(?<resources>[^\]]*)\], verbs: \[(?<verbs>[^\]]*)\]\}")
            .SelectMany(m => from g in Split(m.Groups["groups"].Value) from r in Split(m.Groups["resources"].Value) from v in Split(m.Groups["verbs"].Value) select $"{g}/{r}/{v}")
            .Order(StringComparer.Ordinal);
        static IEnumerable<string> Split(string list) => list.Split(',', StringSplitOptions.TrimEntries).Select(s => s.Trim('"'));

        Assert.Equal(KubeApiServer.NodeFleetRules.SelectMany(r => r.Verbs.Select(v => $"{r.Group}/{r.Resource}/{v}")).Order(StringComparer.Ordinal), rules);
    }
}
