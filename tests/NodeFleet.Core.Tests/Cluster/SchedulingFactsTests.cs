using NodeFleet.Core.Cluster;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Kubernetes;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Tests.Cluster;

public class SchedulingFactsTests
{
    private static readonly DateTimeOffset Created = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static ClusterPod Pod(string name, string? node = null, string app = "web", string ns = "shop", PodSchedulingSpec? scheduling = null, bool pending = false, string? owner = "web-7d9") =>
        new(ns, name, node, node is null ? "Pending" : "Running", owner is null ? null : "ReplicaSet", false, false,
            new Dictionary<string, string>(), new Dictionary<string, string> { ["app"] = app }, 250, 512L << 20)
        {
            Unschedulable = pending,
            Scheduling = scheduling ?? PodSchedulingSpec.None,
            OwnerName = owner,
        };

    private static ClusterNode Node(string name, string zone, params Taint[] taints) =>
        new(name, $"aws:///{zone}/i-{name}", true, false,
            new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = zone, ["kubernetes.io/hostname"] = name, ["team"] = "a", ["noise"] = "x" },
            taints, Created);

    private static LabelSelector App(string app) => new(new Dictionary<string, string> { ["app"] = app }, []);

    private static SchedulingFacts Facts(IReadOnlyList<ClusterPod> pods, IReadOnlyList<ClaimInfo>? claims = null, IReadOnlyList<VolumeInfo>? volumes = null) =>
        new(new ClusterObjects { Pods = pods, Nodes = [Node("w1", "us-east-1a"), Node("w2", "us-east-1b")], Claims = claims ?? [], Volumes = volumes ?? [] });

    [Fact]
    public void UnschedulableGroups_SameOwnerRequestsAndConstraints_FormOneGroupWithItsOwner()
    {
        var selector = new PodSchedulingSpec { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } };
        var pods = new[]
        {
            Pod("a", pending: true, scheduling: selector), Pod("b", pending: true, scheduling: selector),
            Pod("c", pending: true), Pod("d"), // d: Pending but not marked unschedulable (e.g. just created)
        };

        var groups = Facts(pods).UnschedulableGroups();

        Assert.Equal(2, groups.Count);
        var gpu = Assert.Single(groups, g => g.Constraints is not null);
        Assert.Equal(2, gpu.Count);
        Assert.Equal("shop/ReplicaSet/web-7d9", gpu.Owner);
        Assert.Equal("true", gpu.Constraints!.NodeSelector["gpu"]);
        Assert.Null(Assert.Single(groups, g => g.Constraints is null).Constraints);
    }

    [Fact]
    public void Constraints_ZoneSpread_CountsMatchingPodsOfTheNamespacePerNodeAndSelfMatch()
    {
        var spread = new PodSchedulingSpec { TopologySpread = [new SpreadSpec("topology.kubernetes.io/zone", 1, "DoNotSchedule", App("web"))] };
        var pods = new[]
        {
            Pod("web-1", "w1"), Pod("web-2", "w1"), Pod("web-3", "w2"),
            Pod("other", "w2", app: "db"), Pod("web-elsewhere", "w2", ns: "staging"),
            Pod("web-4", pending: true, scheduling: spread),
        };

        var c = Facts(pods).Constraints(pods[^1])!;

        var s = Assert.Single(c.Spread);
        Assert.True(s.SelfMatch);
        Assert.Equal(2, s.MatchingByNode["w1"]);
        Assert.Equal(1, s.MatchingByNode["w2"]);
    }

    [Fact]
    public void Constraints_ScheduleAnywaySpread_IsNoConstraint()
    {
        var pod = Pod("web-4", pending: true, scheduling: new PodSchedulingSpec { TopologySpread = [new SpreadSpec("topology.kubernetes.io/zone", 1, "ScheduleAnyway", App("web"))] });

        Assert.Null(Facts([pod]).Constraints(pod));
    }

    [Fact]
    public void Constraints_MatchLabelKeys_NarrowTheSelectorToThePodsOwnValues()
    {
        var spec = new PodSchedulingSpec { TopologySpread = [new SpreadSpec("kubernetes.io/hostname", 1, "DoNotSchedule", App("web")) { MatchLabelKeys = ["app"] }] };
        var pending = Pod("web-9", pending: true, scheduling: spec);
        var pods = new[] { Pod("web-1", "w1"), pending };

        Assert.Equal(1, Facts(pods).Constraints(pending)!.Spread[0].MatchingByNode["w1"]);
    }

    [Fact]
    public void Constraints_HostnameAntiAffinity_ListsNodesWithMatchingPods()
    {
        var spec = new PodSchedulingSpec { RequiredPodAntiAffinity = [new PodAffinityTermSpec("kubernetes.io/hostname", App("web"))] };
        var pending = Pod("web-3", pending: true, scheduling: spec);
        var pods = new[] { Pod("web-1", "w1"), Pod("db-1", "w2", app: "db"), pending };

        var term = Assert.Single(Facts(pods).Constraints(pending)!.AntiAffinity);

        Assert.True(term.SelfMatch);
        Assert.Equal(["w1"], term.Nodes);
    }

    [Fact]
    public void Constraints_RunningPodsAntiAffinityMatchingThePod_RepelsItFromTheirNode()
    {
        var repeller = Pod("cache-1", "w2", app: "cache") with
        {
            Scheduling = new PodSchedulingSpec { RequiredPodAntiAffinity = [new PodAffinityTermSpec("kubernetes.io/hostname", App("web"))] },
        };
        var pending = Pod("web-3", pending: true);

        var c = Facts([repeller, pending]).Constraints(pending)!;

        Assert.Equal(["w2"], Assert.Single(c.AntiAffinity).Nodes);
        Assert.False(c.AntiAffinity[0].SelfMatch);
    }

    [Theory]
    [InlineData("topology.kubernetes.io/zone", "podAntiAffinity on topology.kubernetes.io/zone")]
    [InlineData("kubernetes.io/hostname", null)]
    public void Constraints_AntiAffinityOnOtherKeys_IsReportedUnmodelled(string key, string? expected)
    {
        var pending = Pod("web-3", pending: true, scheduling: new PodSchedulingSpec { RequiredPodAntiAffinity = [new PodAffinityTermSpec(key, App("web"))] });

        var c = Facts([pending]).Constraints(pending)!;

        Assert.Equal(expected is null ? [] : [expected], c.Unmodelled);
    }

    [Fact]
    public void Constraints_RequiredPodAffinity_IsReportedUnmodelled()
    {
        var pending = Pod("web-3", pending: true, scheduling: new PodSchedulingSpec { RequiredPodAffinity = [new PodAffinityTermSpec("kubernetes.io/hostname", App("cache"))] });

        Assert.Contains("podAffinity (required)", Facts([pending]).Constraints(pending)!.Unmodelled);
    }

    [Fact]
    public void Constraints_BoundVolume_AddsItsNodeAffinity_UnboundAddsNothing_MissingClaimIsUnmodelled()
    {
        var zoneB = new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = "topology.kubernetes.io/zone", Operator = "In", Values = ["us-east-1b"] }] };
        var claims = new[] { new ClaimInfo("shop", "data-0", "pv-1"), new ClaimInfo("shop", "scratch", null) };
        var volumes = new[] { new VolumeInfo("pv-1", [zoneB]) };
        var bound = Pod("db-0", pending: true, scheduling: new PodSchedulingSpec { ClaimNames = ["data-0"] });
        var unbound = Pod("db-1", pending: true, scheduling: new PodSchedulingSpec { ClaimNames = ["scratch"] });
        var missing = Pod("db-2", pending: true, scheduling: new PodSchedulingSpec { ClaimNames = ["nope"] });
        var facts = Facts([bound, unbound, missing], claims, volumes);

        var affinity = Assert.Single(facts.Constraints(bound)!.NodeAffinity);
        Assert.Equal("volume data-0", affinity.Source);
        Assert.Equal("us-east-1b", affinity.Terms[0].MatchExpressions[0].Values[0]);
        Assert.Null(facts.Constraints(unbound));
        Assert.Equal(["PersistentVolumeClaim nope does not exist"], facts.Constraints(missing)!.Unmodelled);
    }

    [Theory]
    [InlineData(8080, "TCP", null, 8080, "TCP", "10.0.0.1", true)]   // a wildcard overlaps any address
    [InlineData(8080, "TCP", "10.0.0.2", 8080, "TCP", "10.0.0.1", false)]
    [InlineData(8080, "TCP", "0.0.0.0", 8080, "TCP", "10.0.0.1", true)]
    [InlineData(8080, "UDP", null, 8080, "TCP", null, false)]
    [InlineData(8080, "TCP", null, 8081, "TCP", null, false)]
    public void Conflict_HostPorts_FollowPortProtocolAndAddress(int p1, string proto1, string? ip1, int p2, string proto2, string? ip2, bool expected)
    {
        Assert.Equal(expected, SchedulingFacts.Conflict(new HostPort { Port = p1, Protocol = proto1, HostIp = ip1 }, new HostPort { Port = p2, Protocol = proto2, HostIp = ip2 }));
    }

    [Fact]
    public void Constraints_HostPort_ListsNodesWherePortIsTaken()
    {
        var port = new PodSchedulingSpec { HostPorts = [new HostPort { Port = 9100 }] };
        var pending = Pod("exporter-2", pending: true, scheduling: port);

        var c = Facts([Pod("exporter-1", "w1", scheduling: port), pending]).Constraints(pending)!;

        Assert.Equal(["w1"], c.HostPortNodes);
    }

    [Fact]
    public void KeptLabels_KeepsNamedKeysAndTopology_DropsTheRest()
    {
        var constraints = new PodConstraints { NodeSelector = new Dictionary<string, string> { ["team"] = "a" } };

        var kept = SchedulingFacts.KeptLabels(Node("w1", "us-east-1a").Labels, SchedulingFacts.NamedKeys([constraints, null]));

        Assert.Equal(["kubernetes.io/hostname", "team", "topology.kubernetes.io/zone"], kept.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void BlockingTaints_PreferNoSchedule_IsDropped()
    {
        var taints = SchedulingFacts.BlockingTaints([new Taint("a", "NoSchedule") { Value = "x" }, new Taint("b", "PreferNoSchedule"), new Taint("c", "NoExecute")]);

        Assert.Equal(["a", "c"], taints.Select(t => t.Key));
        Assert.Equal("x", taints[0].Value);
    }

    [Fact]
    public void DaemonSets_GetTheControllersTolerations()
    {
        var facts = new SchedulingFacts(new ClusterObjects
        {
            Pods = [],
            Nodes = [],
            DaemonSets = [new DaemonSetSpec("kube-system", "exporter", 100, 64L << 20, PodSchedulingSpec.None)],
        });

        var ds = Assert.Single(facts.DaemonSets());

        Assert.Equal("kube-system/exporter", ds.Name);
        Assert.Contains(ds.Constraints!.Tolerations, t => t.Key == "node.kubernetes.io/unschedulable" && t.Operator == "Exists");
    }

    [Fact]
    public void WithPodFacts_WithObjects_TakesPendingPodsFromTheApiAndNodeLabels()
    {
        var node = new NodeInfo
        {
            Name = "w1", InstanceId = "i-w1", Ready = true, Managed = true, Allocatable = new Resources(2000, 8L << 30, 110), Requested = Resources.Zero,
        };
        var snapshot = new ClusterSnapshot
        {
            CapturedAt = Created,
            Utilization = new UtilizationMetrics(),
            Nodes = [node],
            UnschedulablePods = [new PodGroup { CpuMillis = 1, MemoryBytes = 1, Count = 99 }],
        };
        var pending = Pod("web-2", pending: true, scheduling: new PodSchedulingSpec { NodeSelector = new Dictionary<string, string> { ["team"] = "a" } });
        var pods = new[] { Pod("web-1", "w1", scheduling: new PodSchedulingSpec { NodeSelector = new Dictionary<string, string> { ["team"] = "a" } }), pending };

        var result = PodFactsMapping.WithPodFacts(snapshot, pods, [], new ClusterObjects { Pods = pods, Nodes = [Node("w1", "us-east-1a", new Taint("dedicated", "NoSchedule") { Value = "web" })] });

        Assert.Equal(1, Assert.Single(result.UnschedulablePods).Count);
        var w1 = Assert.Single(result.Nodes);
        Assert.Equal("a", w1.Labels["team"]);
        Assert.False(w1.Labels.ContainsKey("noise"));
        Assert.Equal("web", Assert.Single(w1.Taints).Value);
        var movable = Assert.Single(w1.MovablePods);
        Assert.Equal("shop/ReplicaSet/web-7d9", movable.Owner);
        Assert.Equal("a", movable.Constraints!.NodeSelector["team"]);
    }
}
