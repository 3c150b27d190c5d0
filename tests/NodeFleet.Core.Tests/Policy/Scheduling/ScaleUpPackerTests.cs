using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Policy.Scheduling;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;
using static NodeFleet.Core.Tests.Policy.Scheduling.SchedulingFixtures;

namespace NodeFleet.Core.Tests.Policy.Scheduling;

public class ScaleUpPackerTests
{
    /// <summary>Full workers, one per zone: pending pods need new nodes.</summary>
    private static readonly NodeInfo[] Full = [Master(), ZonedWorker("a1", ZoneA, 1.0), ZonedWorker("b1", ZoneB, 1.0), ZonedWorker("c1", ZoneC, 1.0)];

    private static ScaleUpPlan Pack(IReadOnlyList<PodGroup> pods, string[]? zones = null, IReadOnlyList<NodeInfo>? nodes = null, OpenCapacity? open = null, IReadOnlyList<DaemonSetInfo>? daemonSets = null, int maxNewNodes = 11, WorkerTemplate? template = null) =>
        ScaleUpPacker.Pack(
            pods,
            open ?? OpenCapacity.None,
            new TemplateCatalog([template ?? Template(zones ?? [ZoneA, ZoneB, ZoneC])], daemonSets ?? []),
            nodes ?? Full,
            maxNewNodes);

    private static int PinnedIn(ScaleUpPlan plan, string zone) => plan.Pinned.FirstOrDefault(z => z.Zone == zone)?.Nodes ?? 0;

    [Theory]
    [InlineData(true, 1, 2)]  // unconstrained first: two unpinned nodes (4 + 2); zone-b pods pin the second and open one more in b
    [InlineData(false, 2, 1)] // zone-b first: one node in b (3 + 1 unconstrained), the other five on two unpinned nodes
    public void Pack_MixedConstrainedAndUnconstrainedGroups_SharesNodesAndPinsOnlyWhatMust(bool unconstrainedFirst, int expectedUnpinned, int expectedInB)
    {
        var free = Pods(6, 500, 100, "default/Deployment/web");
        var bound = Pods(3, 500, 100, "default/StatefulSet/db").With(new PodConstraints { NodeAffinity = [Volume("data-db-0", ZoneB)] });

        var plan = Pack(unconstrainedFirst ? [free, bound] : [bound, free]);

        Assert.Equal(3, plan.NewNodes); // nine 500m pods, four per worker
        Assert.Equal(expectedInB, PinnedIn(plan, ZoneB));
        Assert.Equal(expectedUnpinned, plan.NewNodes - plan.Pinned.Sum(z => z.Nodes));
        Assert.Equal(9, plan.PlaceablePods);
        Assert.Empty(plan.NoScaleUp);
    }

    public static TheoryData<string, NoScaleUpReason, string> NoNewNode() => new()
    {
        { "gpu selector", NoScaleUpReason.NodeSelector, "gpu=true" },
        { "arm64 affinity", NoScaleUpReason.NodeAffinity, "kubernetes.io/arch In (arm64)" },
        { "volume in zone d", NoScaleUpReason.VolumeZone, "volume data-0: topology.kubernetes.io/zone In (us-east-1d)" },
        { "untolerated taint", NoScaleUpReason.Taint, "dedicated=infra:NoSchedule" },
        { "one of several instance types", NoScaleUpReason.UncertainLabel, "node.kubernetes.io/instance-type In (m5.large)" },
        { "larger than a worker", NoScaleUpReason.TooLarge, "4000m CPU and 100Mi memory; a new worker offers 2000m and 7680Mi" },
        { "required pod affinity", NoScaleUpReason.Unmodelled, "required pod affinity on topology.kubernetes.io/zone" },
    };

    [Theory]
    [MemberData(nameof(NoNewNode))]
    public void Pack_GroupNoTemplateOrZoneCanHost_IsListedByOwnerAndNeverLaunchedFor(string scenario, NoScaleUpReason reason, string detail)
    {
        var template = Template(ZoneA, ZoneB, ZoneC);
        if (scenario == "untolerated taint")
        {
            template = template with { Taints = [new NodeTaint { Key = "dedicated", Value = "infra", Effect = "NoSchedule" }] };
        }

        var constraints = scenario switch
        {
            "gpu selector" => new PodConstraints { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } },
            "arm64 affinity" => new PodConstraints { NodeAffinity = [Affinity(Req(WorkerTemplates.ArchitectureLabel, "In", "arm64"))] },
            "volume in zone d" => new PodConstraints { NodeAffinity = [Volume("data-0", "us-east-1d")] },
            "one of several instance types" => new PodConstraints { NodeAffinity = [Affinity(Req(WorkerTemplates.InstanceTypeLabel, "In", "m5.large"))] },
            "required pod affinity" => new PodConstraints { Unmodelled = ["required pod affinity on topology.kubernetes.io/zone"] },
            _ => null,
        };
        var pods = Pods(3, scenario == "larger than a worker" ? 4000 : 500, 100, "default/Deployment/x");

        var plan = Pack([constraints is null ? pods : pods.With(constraints), Pods(2, 500, 100, "default/Deployment/web")], template: template);

        // The tainted template hosts neither group; otherwise only the unconstrained one is launched for.
        var tainted = scenario == "untolerated taint";
        var listed = plan.NoScaleUp.Single(p => p.Owner == "default/Deployment/x");
        Assert.Equal((3, reason, detail), (listed.Count, listed.Reason, listed.Detail));
        Assert.Equal(tainted ? 2 : 1, plan.NoScaleUp.Count);
        Assert.Equal(tainted ? 0 : 2, plan.PlaceablePods);
        Assert.Equal(tainted ? 0 : 1, plan.NewNodes);
    }

    [Fact]
    public void Pack_SpreadOverAKeyOtherThanZoneOrHostname_IsUnmodelled()
    {
        var spread = new TopologySpread { TopologyKey = "topology.kubernetes.io/region", MaxSkew = 1, SelfMatch = true };

        var plan = Pack([Pods(2, 100, 100, "default/Deployment/x").With(new PodConstraints { Spread = [spread] })]);

        Assert.Equal(0, plan.NewNodes);
        Assert.Equal((NoScaleUpReason.Unmodelled, "topology spread on topology.kubernetes.io/region"), (Assert.Single(plan.NoScaleUp).Reason, plan.NoScaleUp[0].Detail));
    }

    [Fact]
    public void Pack_NodeSelectorAndZone_NamesTheClosestMissAcrossZones()
    {
        // Zone a passes the affinity but lacks the label; every zone lacks the label: the selector is named.
        var constraints = new PodConstraints
        {
            NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" },
            NodeAffinity = [Affinity(Req(WorkerTemplates.ZoneLabel, "In", ZoneA))],
        };

        var plan = Pack([Pods(1, 100, 100, "default/Deployment/gpu").With(constraints)]);

        Assert.Equal(NoScaleUpReason.NodeSelector, Assert.Single(plan.NoScaleUp).Reason);
    }

    [Theory]
    [InlineData("anti-affinity", 3)]
    [InlineData("host port", 3)]
    [InlineData("none", 1)]
    public void Pack_SelfAntiAffinityOrHostPort_OnePodPerNewNode(string constraint, int expected)
    {
        var constraints = constraint switch
        {
            "anti-affinity" => new PodConstraints { AntiAffinity = [new PodAntiAffinity { SelfMatch = true }] },
            "host port" => new PodConstraints { HostPorts = [new HostPort { Port = 8080 }] },
            _ => new PodConstraints(),
        };

        var plan = Pack([Pods(3, 100, 100).With(constraints)]);

        Assert.Equal(expected, plan.NewNodes);
        Assert.Empty(plan.Pinned);
    }

    [Theory]
    [InlineData(8080, 8080, 4)] // the second group cannot share a node with the first: same port
    [InlineData(8080, 9090, 2)]
    public void Pack_TwoGroupsBindingAHostPort_NeverShareANodeOnTheSamePort(int first, int second, int expected)
    {
        var plan = Pack(
        [
            Pods(2, 100, 100, "default/DaemonSetLike/a").With(new PodConstraints { HostPorts = [new HostPort { Port = first }] }),
            Pods(2, 100, 100, "default/DaemonSetLike/b").With(new PodConstraints { HostPorts = [new HostPort { Port = second }] }),
        ]);

        Assert.Equal(expected, plan.NewNodes);
    }

    [Fact]
    public void Pack_AntiAffinityOfRunningPods_KeepsThePodOffTheirNodes()
    {
        var fresh = ZonedWorker("fresh", ZoneA, 0.0);
        var repelled = Pods(1, 100, 100).With(new PodConstraints { AntiAffinity = [new PodAntiAffinity { Nodes = ["fresh"] }] });

        var plan = Pack([repelled], nodes: [.. Full, fresh], open: new OpenCapacity([], [fresh]));

        Assert.Equal(1, plan.NewNodes);
    }

    [Theory]
    [InlineData(1, 3)] // the lowest node runs 1: a new node may take 1 + 1
    [InlineData(3, 2)] // ... or 1 + 3 (then room, 4 per node, is the limit)
    public void Pack_HostnameSpread_CapsEachNewNodeAtTheLowestNodePlusMaxSkew(int maxSkew, int expected)
    {
        // The master is an eligible domain too (untainted, no affinity to fail): it runs one as well.
        var spread = HostnameSpread(maxSkew, ("master", 1), ("a1", 1), ("b1", 2), ("c1", 1));

        var plan = Pack([Pods(6, 500, 100).With(new PodConstraints { Spread = [spread] })]);

        Assert.Equal(expected, plan.NewNodes);
        Assert.Empty(plan.Pinned); // hostname spread needs no zone
    }

    [Fact]
    public void Pack_ZoneSpread_WaterFillsTheZonesWithTheFewestMatchingPodsFirst()
    {
        // a and b run 2 each, c none: four more go c, c, then a and b.
        var spread = ZoneSpread(1, matching: [("a1", 2), ("b1", 2)]);

        var plan = Pack([Pods(4, 1500, 100, "default/Deployment/web").With(new PodConstraints { Spread = [spread] })]);

        Assert.Equal(4, plan.NewNodes); // 1500m: one per node
        Assert.Equal((1, 1, 2), (PinnedIn(plan, ZoneA), PinnedIn(plan, ZoneB), PinnedIn(plan, ZoneC)));
        Assert.Empty(plan.NoScaleUp);
    }

    [Theory]
    [InlineData(0, 0, 4)] // a node in zone d (no template launches there) runs none: a and b (1 each) may not grow
    [InlineData(1, 2, 2)] // it runs 1: a and b may reach 2
    public void Pack_ZoneSpreadHeldDownByAZoneNothingLaunchesIn_ListsThePodsBeyondTheSkew(int inD, int expectedPlaced, int expectedListed)
    {
        var nodes = new[] { Master(), ZonedWorker("a1", ZoneA, 1.0), ZonedWorker("b1", ZoneB, 1.0), ZonedWorker("d1", "us-east-1d", 1.0) };
        var spread = ZoneSpread(1, matching: [("a1", 1), ("b1", 1), ("d1", inD)]);

        var plan = Pack([Pods(4, 1500, 100, "default/Deployment/web").With(new PodConstraints { Spread = [spread] })], zones: [ZoneA, ZoneB], nodes: nodes);

        Assert.Equal(expectedPlaced, plan.NewNodes);
        Assert.Equal(expectedPlaced, plan.PlaceablePods);
        var listed = Assert.Single(plan.NoScaleUp);
        Assert.Equal((NoScaleUpReason.TopologySpread, expectedListed, "topology.kubernetes.io/zone maxSkew 1"), (listed.Reason, listed.Count, listed.Detail));
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData(2, 0)]
    [InlineData(3, 4)] // two zones can never make three domains: each zone takes maxSkew, the rest waits
    public void Pack_ZoneSpreadWithMinDomains_FewerDomainsThanAskedKeepTheGlobalMinimumAtZero(int? minDomains, int expectedListed)
    {
        var spread = ZoneSpread(1, minDomains);

        var plan = Pack([Pods(6, 1500, 100).With(new PodConstraints { Spread = [spread] })], zones: [ZoneA, ZoneB], nodes: [Master()]);

        Assert.Equal(expectedListed, plan.UnplaceablePods);
        Assert.Equal(6 - expectedListed, plan.NewNodes);
    }

    [Theory]
    [InlineData(null, 1)]   // a launching node of unknown zone cannot take a zone-bound pod
    [InlineData(ZoneB, 0)]  // its zone is known: it takes it
    [InlineData(ZoneA, 1)]
    public void Pack_ZoneBoundPodAndALaunchingNode_UsesItOnlyInItsZone(string? launchingZone, int expectedNew)
    {
        var bound = Pods(2, 500, 100).With(new PodConstraints { NodeAffinity = [Volume("data-0", ZoneB)] });

        var plan = Pack([bound], open: new OpenCapacity([launchingZone], []));

        Assert.Equal(expectedNew, plan.NewNodes);
        Assert.Equal(expectedNew, PinnedIn(plan, ZoneB));
    }

    [Fact]
    public void Pack_JoinedNodeWithTheLabel_TakesWhatFitsAndTheRestIsListed()
    {
        var gpu = ZonedWorker("gpu1", ZoneA, 0.5, ("gpu", "true")); // 1000m free
        var pods = Pods(3, 500, 100, "default/Deployment/train").With(new PodConstraints { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } });

        var plan = Pack([pods], nodes: [.. Full, gpu], open: new OpenCapacity([], [gpu]));

        Assert.Equal(0, plan.NewNodes);
        Assert.Equal(2, plan.PlaceablePods);
        Assert.Equal((1, NoScaleUpReason.NodeSelector), (Assert.Single(plan.NoScaleUp).Count, plan.NoScaleUp[0].Reason));
    }

    [Fact]
    public void Pack_DaemonSets_ShrinkANewNodesRoom()
    {
        var agent = new DaemonSetInfo { Name = "kube-system/agent", CpuMillis = 600, MemoryBytes = 128 * MiB };

        var withAgent = Pack([Pods(4, 500, 100)], daemonSets: [agent]);
        var tooLarge = Pack([Pods(1, 1500, 100, "default/Deployment/big")], daemonSets: [agent]);

        Assert.Equal(2, withAgent.NewNodes); // 1400m left: two 500m pods per node
        Assert.Equal(NoScaleUpReason.TooLarge, Assert.Single(tooLarge.NoScaleUp).Reason);
        Assert.Contains("offers 1400m", tooLarge.NoScaleUp[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Pack_ZoneRestrictedWithoutSpread_BalancesItsNodesOverTheAllowedZones()
    {
        var nodes = new[] { Master(), ZonedWorker("a1", ZoneA, 1.0), ZonedWorker("a2", ZoneA, 1.0) };
        var constraints = new PodConstraints { NodeAffinity = [Affinity(Req(WorkerTemplates.ZoneLabel, "In", ZoneA, ZoneB))] };

        var plan = Pack([Pods(3, 1500, 100).With(constraints)], nodes: nodes);

        // a has two workers, b none: b, b (now 2 = a), then a (listed first on the tie).
        Assert.Equal((1, 2, 0), (PinnedIn(plan, ZoneA), PinnedIn(plan, ZoneB), PinnedIn(plan, ZoneC)));
    }

    [Fact]
    public void Pack_BeyondTheNewNodeLimit_StopsSayingSoAndStillClassifies()
    {
        var plan = Pack(
            [Pods(20, 1500, 100).With(new PodConstraints { AntiAffinity = [new PodAntiAffinity { SelfMatch = true }] }), Pods(2, 100, 100, "default/Deployment/gpu").With(new PodConstraints { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } })],
            maxNewNodes: 5);

        Assert.Equal(5, plan.NewNodes);
        Assert.True(plan.Truncated);
        Assert.Equal(20, plan.PlaceablePods);
        Assert.Equal(2, plan.UnplaceablePods);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(42)]
    [InlineData(2026)]
    public void Pack_UnconstrainedPods_NeedExactlyWhatSizeAlonePacking(int seed)
    {
        // The simulator's traces are unconstrained: their decisions must not change.
        var random = new Random(seed);
        var pods = Enumerable.Range(0, 30).Select(_ => Pods(random.Next(1, 12), 100 * random.Next(1, 20), 128 * random.Next(1, 60))).ToList();
        var joined = ZonedWorker("fresh", ZoneA, 0.3) with { CreatedAt = Now.AddSeconds(-20) };

        var plan = Pack(pods, zones: [ZoneA], open: new OpenCapacity([null, null], [joined]), maxNewNodes: 500);
        var bySize = BinPacker.PackWithNewBins(pods, [Shape, Shape, FleetView.Room(joined)], Shape, 500);

        Assert.Equal(bySize.NewBins, plan.NewNodes);
        Assert.Equal(bySize.PlaceablePods, plan.PlaceablePods);
        Assert.Equal(bySize.UnplaceablePods, plan.UnplaceablePods);
    }
}
