using System.Text.Json;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>
/// Pods with scheduling constraints against the testbed's scheduler (kube-scheduler's filters):
/// NodeFleet launches only nodes the pending pods can use, and removes only nodes whose pods can
/// land elsewhere. Each scenario ends with the invariants.
/// </summary>
public abstract class SchedulingScenario(LocalCloud cloud)
{
    protected LocalCloud Cloud { get; } = cloud;

    protected static Dictionary<string, object> Tick() => [];

    protected static JsonElement Decision(JsonElement run) => run.GetProperty("output").GetProperty("decision");

    protected static void Succeeded(JsonElement run) => Assert.True(run.GetProperty("status").GetString() == "SUCCEEDED", run.GetRawText());

    /// <summary>Until the scheduler has marked <paramref name="count"/> pods unschedulable and Prometheus has seen it.</summary>
    protected async Task PendingAsync(int count)
    {
        await Cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", () =>
        {
            Cloud.Model.Schedule();
            return Cloud.Model.Read((_, pods, _) => pods.Count(p => p.Unschedulable));
        }, TimeSpan.FromSeconds(30));
        Assert.Equal(count, Cloud.Model.Read((_, pods, _) => pods.Count(p => p.Unschedulable)));
    }

    protected string ZoneOf(string node) => Cloud.Model.Node(node)?.Labels.GetValueOrDefault(TestNode.ZoneLabel) ?? "";

    protected static TestPod Pod(string ns, string owner, string name, long cpuMillis, PodSpec? spec = null, Dictionary<string, string>? labels = null) => new()
    {
        Namespace = ns, Name = name, OwnerName = owner, Phase = "Pending", Labels = labels ?? new() { ["app"] = owner },
        Spec = (spec ?? new PodSpec()) with { Containers = [PodSpec.Container(cpuMillis, 256L << 20)] },
    };
}

[Collection(SchedulingCloudGroup.Name)]
public class SchedulingTests(SchedulingCloud cloud) : SchedulingScenario(cloud)
{
    /// <summary>
    /// A Deployment's pods select a label no worker template has (<c>gpu=true</c>, created with
    /// kubectl): no launch for ten ticks, one notification naming the owner and the reason. Then a
    /// pod pinned by its node selector to one worker keeps that worker from being removed.
    /// </summary>
    [Fact]
    public async Task PodsSelectingALabelNoTemplateHas_NeverLaunch_ToldOnce_ThenAPinnedPodKeepsItsNode()
    {
        Cloud.Model.Add(TestNode.ControlPlane());
        // The minimum (2): nothing else would scale.
        var w1 = Cloud.AddWorker("w1", TimeSpan.FromHours(1));
        var w2 = Cloud.AddWorker("w2", TimeSpan.FromHours(1));
        await Cloud.WaitForAsync("count(kube_node_info)", 3, TimeSpan.FromSeconds(60));
        Cloud.Notifications();

        // 1. Two pods of one ReplicaSet, through the API as kubectl creates them.
        var manifest = Path.GetTempFileName();
        var kubeconfig = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(kubeconfig, Cloud.Kube.Kubeconfig());
            // One YAML stream of two Pod documents (JSON is YAML), as `kubectl create -f` reads a manifest file.
            await File.WriteAllTextAsync(manifest, "---\n" + string.Join("\n---\n", Enumerable.Range(0, 2).Select(i => JsonSerializer.Serialize(new
            {
                apiVersion = "v1",
                kind = "Pod",
                metadata = new
                {
                    name = $"trainer-{i}",
                    @namespace = "ml",
                    labels = new Dictionary<string, string> { ["app"] = "trainer" },
                    ownerReferences = new[] { new { apiVersion = "apps/v1", kind = "ReplicaSet", name = "trainer", uid = "7f1c2b3a-0000-4000-8000-000000000001", controller = true } },
                },
                spec = new
                {
                    nodeSelector = new Dictionary<string, string> { ["gpu"] = "true" },
                    containers = new[] { new { name = "train", image = "trainer:1", resources = new { requests = new Dictionary<string, string> { ["cpu"] = "500m", ["memory"] = "1Gi" } } } },
                },
            }))));
            Tool.Run("kubectl", ["--kubeconfig", kubeconfig, "create", "-f", manifest]);
        }
        finally
        {
            File.Delete(manifest);
            File.Delete(kubeconfig);
        }

        await PendingAsync(2);
        var runs = new List<JsonElement>();
        for (var i = 0; i < 10; i++)
        {
            runs.Add(Cloud.Run(Tick()));
        }

        Assert.All(runs, Succeeded);
        Assert.All(runs, r => Assert.DoesNotContain("LaunchNodes", Runs.Entered(r)));
        var first = Decision(runs[0]);
        var unhelped = Assert.Single(first.GetProperty("noScaleUp").EnumerateArray());
        Assert.Equal("ml/ReplicaSet/trainer", unhelped.GetProperty("owner").GetString());
        Assert.Equal(2, unhelped.GetProperty("count").GetInt32());
        Assert.Equal("NodeSelector", unhelped.GetProperty("reason").GetString());
        Assert.Contains("gpu", unhelped.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("NoScaleUpReported", runs[0].GetProperty("output").GetProperty("recorded").GetProperty("outcome").GetString());
        Assert.All(runs.Skip(1), r => Assert.False(Decision(r).GetProperty("noScaleUp")[0].GetProperty("new").GetBoolean()));
        var told = Cloud.Notifications().Where(n => n.Contains("ml/ReplicaSet/trainer", StringComparison.Ordinal)).ToList();
        Assert.Single(told);
        Cloud.Model.RemovePod("ml", "trainer-0");
        Cloud.Model.RemovePod("ml", "trainer-1");

        // 2. A third worker; w2 alone is labelled disk=ssd and runs the one pod that needs it; the
        // others run ordinary pods. w2 is the least utilised, so size alone would remove it first.
        var w3 = Cloud.AddWorker("w3", TimeSpan.FromHours(1));
        w2.Labels["disk"] = "ssd";
        var pinned = Pod("shop", "cache", "cache-0", 50, new PodSpec { NodeSelector = new Dictionary<string, string> { ["disk"] = "ssd" } });
        pinned.NodeName = "w2";
        pinned.Phase = "Running";
        Cloud.Model.Add(pinned);
        foreach (var node in new[] { w1, w3 })
        {
            var pod = Pod("shop", "web", $"web-{node.Name}", 200);
            pod.NodeName = node.Name;
            pod.Phase = "Running";
            Cloud.Model.Add(pod);
        }

        var removal = await Cloud.TickUntilActionAsync(TimeSpan.FromSeconds(90));

        var decision = Decision(removal);
        Assert.Equal("ScaleDown", decision.GetProperty("action").GetString());
        Assert.NotEqual("w2", decision.GetProperty("nodeToRemove").GetProperty("name").GetString());
        Assert.Contains(decision.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("w2", StringComparison.Ordinal)
            && n.GetString()!.Contains("shop/ReplicaSet/cache", StringComparison.Ordinal) && n.GetString()!.Contains("could run on no other node", StringComparison.Ordinal));
        Assert.Equal("ScaledDown", removal.GetProperty("output").GetProperty("recorded").GetProperty("outcome").GetString());
        Assert.Equal("w2", Cloud.Model.Read((_, pods, _) => pods.Single(p => p.Name == "cache-0").NodeName));
        Assert.False(Cloud.Model.Node("w2")!.Unschedulable);

        Invariants.Check(Cloud);
    }
}

[Collection(ZoneCloudGroup.Name)]
public class ZoneTests(ZoneCloud cloud) : SchedulingScenario(cloud)
{
    /// <summary>
    /// A StatefulSet pod whose volume is an EBS volume in the second zone launches a node there, and
    /// only there; then replicas that repel each other on the hostname get one node each.
    /// </summary>
    [Fact]
    public async Task PodBoundToZoneB_LaunchesInZoneB_ThenHostnameAntiAffinity_OneNodePerPod()
    {
        Cloud.Model.Add(TestNode.ControlPlane());
        var (zoneA, _) = Cloud.WorkerSubnets[0];
        var (zoneB, _) = Cloud.WorkerSubnets[1];
        Cloud.AddWorker("w1", TimeSpan.FromHours(1), zoneA);
        Cloud.AddWorker("w2", TimeSpan.FromHours(1), zoneA);
        await Cloud.WaitForAsync("count(kube_node_info)", 3, TimeSpan.FromSeconds(60));

        // 1. db-0's claim is bound to a volume that only zone B's nodes reach.
        Cloud.Model.Add(TestVolume.InZone("pv-db-0", zoneB));
        Cloud.Model.Add(new TestClaim { Namespace = "shop", Name = "data-db-0", VolumeName = "pv-db-0" });
        Cloud.Model.Add(Pod("shop", "db", "db-0", 500, new PodSpec
        {
            Volumes = [new VolumeSpec { Name = "data", PersistentVolumeClaim = new ClaimSourceSpec { ClaimName = "data-db-0" } }],
        }));
        await PendingAsync(1);

        var launch = Cloud.Run(Tick());

        Succeeded(launch);
        var decision = Decision(launch);
        Assert.Equal("ScaleUp", decision.GetProperty("action").GetString());
        Assert.Equal(1, decision.GetProperty("nodesToAdd").GetInt32());
        var share = Assert.Single(decision.GetProperty("zones").EnumerateArray());
        Assert.Equal(zoneB, share.GetProperty("zone").GetString());
        var instances = launch.GetProperty("output").GetProperty("launch").GetProperty("instances").EnumerateArray().ToList();
        Assert.All(instances, i => Assert.Equal(zoneB, i.GetProperty("zone").GetString()));
        Cloud.Model.Schedule();
        var dbNode = Cloud.Model.Read((_, pods, _) => pods.Single(p => p.Name == "db-0").NodeName);
        Assert.NotNull(dbNode);
        Assert.Equal(zoneB, ZoneOf(dbNode));

        // 2. Five replicas that may not share a node: the three nodes take one each, and exactly as
        // many nodes as replicas are left pending are launched.
        var repel = new PodSpec
        {
            Affinity = new AffinitySpec
            {
                PodAntiAffinity = new PodAffinitySpec
                {
                    RequiredDuringSchedulingIgnoredDuringExecution =
                        [new AffinityTermSpec { TopologyKey = TestNode.HostnameLabel, LabelSelector = new LabelSelectorSpec { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } } }],
                },
            },
        };
        for (var i = 0; i < 5; i++)
        {
            Cloud.Model.Add(Pod("shop", "web", $"web-{i}", 200, repel));
        }

        await PendingAsync(2);
        var spread = Cloud.Run(Tick());

        Succeeded(spread);
        Assert.Equal("ScaleUp", Decision(spread).GetProperty("action").GetString());
        Assert.Equal(2, Decision(spread).GetProperty("nodesToAdd").GetInt32());
        Cloud.Model.Schedule();
        var webNodes = Cloud.Model.Read((_, pods, _) => pods.Where(p => p.Name.StartsWith("web-", StringComparison.Ordinal)).Select(p => p.NodeName).ToList());
        Assert.All(webNodes, Assert.NotNull);
        Assert.Equal(5, webNodes.Distinct().Count());

        Invariants.Check(Cloud);
    }
}

/// <summary>A fresh cloud for the scheduling-constraint scenarios.</summary>
public sealed class SchedulingCloud : LocalCloud;

[CollectionDefinition(Name)]
public sealed class SchedulingCloudGroup : ICollectionFixture<SchedulingCloud>
{
    public const string Name = "scheduling-cloud";
}

/// <summary>A fresh cloud for the zone and anti-affinity scenarios.</summary>
public sealed class ZoneCloud : LocalCloud;

[CollectionDefinition(Name)]
public sealed class ZoneCloudGroup : ICollectionFixture<ZoneCloud>
{
    public const string Name = "zone-cloud";
}
