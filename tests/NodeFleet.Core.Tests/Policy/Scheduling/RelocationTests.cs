using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using NodeFleet.Core.Policy.Scheduling;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;
using static NodeFleet.Core.Tests.Policy.Scheduling.SchedulingFixtures;

namespace NodeFleet.Core.Tests.Policy.Scheduling;

public class RelocationTests
{
    private const double Target = 0.6;

    private static Refusal? WhyNot(PodGroup moving, params NodeInfo[] others)
    {
        var leaving = ZonedWorker("x", ZoneA, 0.1, ("disktype", "ssd")) with { MovablePods = [moving] };
        return Relocation.WhyNot(leaving, new[] { leaving }.Concat(others).Append(ControlPlane).Select(Place.Of).ToList(), Target);
    }

    /// <summary>A control plane tainted for system pods only: no movable pod lands there.</summary>
    private static NodeInfo ControlPlane => Master() with { Taints = [new NodeTaint { Key = "node-role.kubernetes.io/control-plane", Effect = "NoSchedule" }] };

    private static NodeInfo Y(params (string, string)[] labels) => ZonedWorker("y", ZoneA, 0.1, labels);

    private static NodeInfo Z(params (string, string)[] labels) => ZonedWorker("z", ZoneB, 0.1, labels);

    public static TheoryData<string, string?> Cases() => new()
    {
        { "unconstrained", null },
        { "pinned by nodeSelector to this node's label", "NodeSelector disktype=ssd" },
        { "nodeSelector another node meets", null },
        { "volume in zone a, only x and y there", null },
        { "volume in zone c", "VolumeZone volume data-0: topology.kubernetes.io/zone In (us-east-1c)" },
        { "every other node tainted", "Taint dedicated:NoSchedule" },
        { "tolerates the taint", null },
        { "host port taken on every other node", "HostPort 8080/TCP" },
        { "anti-affinity with pods on every other node", "PodAntiAffinity " },
        { "self anti-affinity, two pods, one free node", "PodAntiAffinity " },
        { "self anti-affinity, one pod per free node", null },
        { "zone spread would break", "TopologySpread topology.kubernetes.io/zone maxSkew 1" },
        { "unmodelled constraint", "Unmodelled required pod affinity" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void WhyNot_MovablePods_MustPassThePredicatesOnAnotherNode(string scenario, string? expected)
    {
        var tainted = new NodeTaint { Key = "dedicated", Effect = "NoSchedule" };
        var (pods, others) = scenario switch
        {
            "unconstrained" => (Pods(2, 200, 100), new[] { Y(), Z() }),
            "pinned by nodeSelector to this node's label" => (Pods(1, 200, 100).With(new PodConstraints { NodeSelector = new Dictionary<string, string> { ["disktype"] = "ssd" } }), new[] { Y(), Z() }),
            "nodeSelector another node meets" => (Pods(1, 200, 100).With(new PodConstraints { NodeSelector = new Dictionary<string, string> { ["disktype"] = "ssd" } }), new[] { Y(), Z(("disktype", "ssd")) }),
            "volume in zone a, only x and y there" => (Pods(1, 200, 100).With(new PodConstraints { NodeAffinity = [Volume("data-0", ZoneA)] }), new[] { Y(), Z() }),
            "volume in zone c" => (Pods(1, 200, 100).With(new PodConstraints { NodeAffinity = [Volume("data-0", ZoneC)] }), new[] { Y(), Z() }),
            "every other node tainted" => (Pods(1, 200, 100), new[] { Y() with { Taints = [tainted] }, Z() with { Taints = [tainted] } }),
            "tolerates the taint" => (Pods(1, 200, 100).With(new PodConstraints { Tolerations = [new Toleration { Key = "dedicated", Operator = "Exists" }] }), new[] { Y() with { Taints = [tainted] }, Z() with { Taints = [tainted] } }),
            "host port taken on every other node" => (Pods(1, 200, 100).With(new PodConstraints { HostPorts = [new HostPort { Port = 8080 }], HostPortNodes = ["x", "y", "z"] }), new[] { Y(), Z() }),
            "anti-affinity with pods on every other node" => (Pods(1, 200, 100).With(new PodConstraints { AntiAffinity = [new PodAntiAffinity { Nodes = ["y", "z"] }] }), new[] { Y(), Z() }),
            "self anti-affinity, two pods, one free node" => (Pods(2, 200, 100).With(new PodConstraints { AntiAffinity = [new PodAntiAffinity { SelfMatch = true, Nodes = ["x", "z"] }] }), new[] { Y(), Z() }),
            "self anti-affinity, one pod per free node" => (Pods(2, 200, 100).With(new PodConstraints { AntiAffinity = [new PodAntiAffinity { SelfMatch = true, Nodes = ["x"] }] }), new[] { Y(), Z() }),
            // x and y run one each in a, z two in b: without x, a has 1 and b 2; both pods may not go to b.
            "zone spread would break" => (Pods(2, 200, 100).With(new PodConstraints { Spread = [ZoneSpread(1, matching: [("x", 2), ("y", 0), ("z", 2)])] }), new[] { Y() with { Requested = Shape }, Z() }),
            _ => (Pods(1, 200, 100).With(new PodConstraints { Unmodelled = ["required pod affinity"] }), new[] { Y(), Z() }),
        };

        var refusal = WhyNot(pods with { Owner = "default/Deployment/app" }, others);

        Assert.Equal(expected, refusal is Refusal.PodsCannotMove r ? $"{r.Predicate} {r.Detail}" : refusal?.GetType().Name);
        if (refusal is Refusal.PodsCannotMove named)
        {
            Assert.Equal(("x", "default/Deployment/app"), (named.Node, named.Owner));
        }
    }

    [Fact]
    public void WhyNot_PassingNodesWithoutRoom_IsPodsDoNotFit()
    {
        var refusal = WhyNot(Pods(1, 1500, 100), Y(), Z());

        Assert.IsType<Refusal.PodsDoNotFit>(refusal);
    }

    [Fact]
    public void WhyNot_ZoneSpreadThatAllowsOnePerZone_PlacesPodByPod()
    {
        // Without x: a has 0 (y), b has 1 (z); two pods go a then b, never both to one zone.
        var spread = ZoneSpread(1, matching: [("x", 2), ("z", 1)]);

        var refusal = WhyNot(Pods(2, 200, 100).With(new PodConstraints { Spread = [spread] }), Y(), Z());

        Assert.Null(refusal);
    }

    [Fact]
    public void WhyNot_HostnameSpreadCountsWithoutTheLeavingNode()
    {
        // y, z and the master run one each; x (leaving) ran three: y and z may take one more each, no more.
        var spread = HostnameSpread(1, ("x", 3), ("y", 1), ("z", 1), ("master", 1));

        Assert.Null(WhyNot(Pods(2, 200, 100).With(new PodConstraints { Spread = [spread] }), Y(), Z()));
        Assert.IsType<Refusal.PodsCannotMove>(WhyNot(Pods(3, 200, 100).With(new PodConstraints { Spread = [spread] }), Y(), Z()));
    }

    [Fact]
    public void WhyNot_TwoGroupsBindingOnePort_CannotBothLandOnTheOnlyFreeNode()
    {
        var leaving = ZonedWorker("x", ZoneA, 0.1) with
        {
            MovablePods =
            [
                Pods(1, 200, 100, "default/Deployment/a").With(new PodConstraints { HostPorts = [new HostPort { Port = 53, Protocol = "UDP" }], HostPortNodes = ["x"] }),
                Pods(1, 100, 100, "default/Deployment/b").With(new PodConstraints { HostPorts = [new HostPort { Port = 53, Protocol = "UDP", HostIp = "10.0.0.1" }], HostPortNodes = ["x"] }),
            ],
        };

        var refusal = Relocation.WhyNot(leaving, new[] { leaving, Y(), ControlPlane }.Select(Place.Of).ToList(), Target);

        var named = Assert.IsType<Refusal.PodsCannotMove>(refusal);
        Assert.Equal(("default/Deployment/b", Predicate.HostPort), (named.Owner, named.Predicate));
        Assert.Equal(WorkerTemplates.ZoneLabel, ZoneSpread().TopologyKey);
    }
}
