using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Scheduling;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;
using static NodeFleet.Core.Tests.Policy.Scheduling.SchedulingFixtures;

namespace NodeFleet.Core.Tests.Policy.Scheduling;

public class SpreadCountsTests
{
    private static readonly NodeInfo[] ThreeZones =
    [
        ZonedWorker("a1", ZoneA), ZonedWorker("a2", ZoneA), ZonedWorker("b1", ZoneB), ZonedWorker("c1", ZoneC, 0.2, ("gpu", "true")),
    ];

    private static SpreadCounts Counts(TopologySpread spread, PodConstraints? constraints = null, IReadOnlyList<NodeInfo>? nodes = null, string? skip = null)
    {
        constraints = (constraints ?? new PodConstraints()) with { Spread = [spread] };
        return new SpreadCounts(constraints, constraints.Spread[0], (nodes ?? ThreeZones).Select(Place.Of).ToList(), skip);
    }

    [Theory]
    [InlineData(false, false, 2)] // Honor (the default): c1 fails the pod's node affinity
    [InlineData(true, false, 3)]  // nodeAffinityPolicy Ignore counts it
    [InlineData(false, true, 2)]
    public void Domains_NodeAffinityPolicy_DecidesWhichZonesCount(bool ignoreNodeAffinity, bool volumeOnly, int expected)
    {
        var affinity = volumeOnly ? Volume("data-0", ZoneA) with { Terms = [new NodeSelectorTerm { MatchExpressions = [Req("gpu", "DoesNotExist")] }] } : Affinity(Req("gpu", "DoesNotExist"));
        var constraints = new PodConstraints { NodeAffinity = [affinity] };

        var counts = Counts(ZoneSpread() with { IgnoreNodeAffinity = ignoreNodeAffinity }, constraints);

        // A volume's node affinity is not the pod's: the policy never leaves zones out for it.
        Assert.Equal(volumeOnly ? 3 : expected, counts.Domains);
    }

    [Theory]
    [InlineData(false, false, 3)] // nodeTaintsPolicy Ignore (the default): tainted nodes count
    [InlineData(true, false, 2)]  // Honor: an untolerated taint leaves c1 out
    [InlineData(true, true, 3)]   // ... unless the pod tolerates it
    public void Domains_NodeTaintsPolicy_DecidesWhetherTaintedNodesCount(bool honorTaints, bool tolerated, int expected)
    {
        var nodes = ThreeZones.Select(n => n.Name == "c1" ? n with { Taints = [new NodeTaint { Key = "gpu", Effect = "NoSchedule" }] } : n).ToList();
        var constraints = new PodConstraints { Tolerations = tolerated ? [new Toleration { Key = "gpu", Operator = "Exists" }] : [] };

        var counts = Counts(ZoneSpread() with { HonorTaints = honorTaints }, constraints, nodes);

        Assert.Equal(expected, counts.Domains);
    }

    [Fact]
    public void Domains_NodeWithoutTheTopologyKey_IsNoDomain()
    {
        var nodes = new[] { ZonedWorker("a1", ZoneA), Master() with { Zone = null } };

        Assert.Equal(1, Counts(ZoneSpread(), nodes: nodes).Domains);
    }

    [Theory]
    [InlineData(ZoneA, true, 1, false)]   // 2 + 1 - 1 = 2 > 1
    [InlineData(ZoneB, true, 1, true)]    // 1 + 1 - 1 = 1
    [InlineData(ZoneA, false, 1, true)]   // a pod its selector does not match adds nothing: 2 - 1 = 1
    [InlineData(ZoneA, true, 2, true)]
    public void Allows_Skew_IsMatchingPlusSelfMinusGlobalMinimum(string zone, bool selfMatch, int maxSkew, bool expected)
    {
        var nodes = new[] { ZonedWorker("a1", ZoneA), ZonedWorker("a2", ZoneA), ZonedWorker("b1", ZoneB) };

        var counts = Counts(ZoneSpread(maxSkew, selfMatch: selfMatch, matching: [("a1", 1), ("a2", 1), ("b1", 1)]), nodes: nodes);

        Assert.Equal(expected, counts.Allows(zone));
    }

    [Fact]
    public void Allows_EligibleZoneRunningNoMatchingPod_HoldsTheOthersBack()
    {
        var counts = Counts(ZoneSpread(1, matching: [("a1", 1), ("b1", 1)]) with { IgnoreNodeAffinity = true });

        Assert.False(counts.Allows(ZoneA)); // c1 runs none: 1 + 1 - 0 > 1
        Assert.True(counts.Allows(ZoneC));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(2, true)]
    [InlineData(3, false)] // fewer eligible domains than minDomains: the global minimum is 0, so 2 + 1 - 0 > 1
    public void Allows_FewerDomainsThanMinDomains_GlobalMinimumIsZero(int? minDomains, bool expected)
    {
        var nodes = new[] { ZonedWorker("a1", ZoneA), ZonedWorker("b1", ZoneB) };

        var counts = Counts(ZoneSpread(1, minDomains, matching: [("a1", 2), ("b1", 2)]), nodes: nodes);

        Assert.Equal(expected, counts.Allows(ZoneA));
    }

    [Theory]
    [InlineData(ZoneA, 0)]         // 3 already, the others have 1: nothing more
    [InlineData(ZoneB, 1)]         // up to the lowest other (1) + maxSkew (1)
    [InlineData("us-east-1d", 2)]  // a zone not yet a domain: from 0 up to 1 + 1
    public void Room_SelfMatching_UpToTheLowestOtherDomainPlusMaxSkew(string zone, int expected)
    {
        var nodes = new[] { ZonedWorker("a1", ZoneA), ZonedWorker("b1", ZoneB), ZonedWorker("c1", ZoneC) };

        var counts = Counts(ZoneSpread(1, matching: [("a1", 3), ("b1", 1), ("c1", 1)]), nodes: nodes);

        Assert.Equal(expected, counts.Room(zone));
    }

    [Fact]
    public void Room_TheOnlyDomain_IsUnbounded()
    {
        var counts = Counts(ZoneSpread(1, matching: [("a1", 5)]), nodes: [ZonedWorker("a1", ZoneA)]);

        Assert.Equal(int.MaxValue, counts.Room(ZoneA));
    }

    [Fact]
    public void AddAndOpen_PlacedPodsAndPlannedNodes_ChangeTheMinimum()
    {
        var counts = Counts(ZoneSpread(1, matching: [("a1", 1), ("a2", 0), ("b1", 1)]) with { IgnoreNodeAffinity = true });
        Assert.Equal(0, counts.GlobalMin); // c1 runs none

        counts.Add(ZoneC, 1);
        Assert.Equal(1, counts.GlobalMin);

        counts.Open("us-east-1d");
        Assert.Equal(0, counts.GlobalMin);
        Assert.Equal(4, counts.Domains);
    }

    [Fact]
    public void Constructor_SkippedNode_LeavesItsDomainAndPodsOut()
    {
        var counts = Counts(HostnameSpread(1, ("a1", 2), ("a2", 1), ("b1", 1), ("c1", 1)), skip: "a1");

        Assert.Equal(3, counts.Domains);
        Assert.False(counts.IsDomain("a1"));
        Assert.Equal(1, counts.GlobalMin);
    }

    [Fact]
    public void Domain_NewNode_HasAHostnameButNoKnownName()
    {
        var counts = Counts(HostnameSpread());
        var unknownZone = Place.New(Template(ZoneA, ZoneB), null);

        Assert.True(counts.HasKeys(unknownZone));
        Assert.Null(counts.Domain(unknownZone));
        Assert.Equal(ZoneA, Counts(ZoneSpread()).Domain(Place.New(Template(ZoneA, ZoneB), ZoneA)));
        Assert.False(Counts(ZoneSpread()).HasKeys(unknownZone)); // its zone is not known
        Assert.Equal(WorkerTemplates.HostnameLabel, counts.Spread.TopologyKey);
    }
}
