using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;
using static NodeFleet.Core.Tests.Policy.Scheduling.SchedulingFixtures;

namespace NodeFleet.Core.Tests.Policy;

/// <summary>Decide with pod constraints: zone shares, pods no new node can host, scale-down refusals.</summary>
public class ScalingPolicySchedulingTests
{
    private static readonly ScalingSettings TwoZones = InZones(ZoneA, ZoneB);
    private static readonly UtilizationMetrics Idle = Utilization(cpu: 0.1, memory: 0.2);

    private static IEnumerable<NodeInfo> Busy(int perZone) =>
        Enumerable.Range(1, perZone).SelectMany(i => new[] { ZonedWorker($"a{i}", ZoneA, 0.9), ZonedWorker($"b{i}", ZoneB, 0.9) });

    private static readonly PodGroup GpuPods = Pods(2, 500, 100, "ml/Deployment/train").With(new PodConstraints { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } });

    [Fact]
    public void Decide_PodsBoundToZoneB_LaunchInZoneB()
    {
        var bound = Pods(3, 1500, 100, "default/StatefulSet/db").With(new PodConstraints { NodeAffinity = [Volume("data-db-0", ZoneB)] });

        var decision = Decide(Snapshot(Busy(2), null, bound), settings: TwoZones);

        Assert.Equal((ScalingAction.ScaleUp, 3), (decision.Action, decision.NodesToAdd));
        var share = Assert.Single(decision.Zones);
        Assert.Equal((ZoneB, 3), (share.Zone, share.Nodes));
    }

    [Fact]
    public void Decide_UnconstrainedPods_LeaveTheZonesToLaunchNodes()
    {
        var decision = Decide(Snapshot(Busy(2), null, Pods(8, 500, 100)), settings: TwoZones);

        Assert.Equal(2, decision.NodesToAdd);
        Assert.Empty(decision.Zones);
    }

    [Fact]
    public void Decide_OnlyPodsNoNewNodeCouldHost_LaunchesNothingAndNamesThem()
    {
        var decision = Decide(Snapshot(Busy(2), null, GpuPods), settings: TwoZones);

        Assert.Equal((ScalingAction.None, DecisionReason.PodsUnplaceable), (decision.Action, decision.ReasonCode));
        var listed = Assert.Single(decision.NoScaleUp);
        Assert.Equal(("ml/Deployment/train", 2, NoScaleUpReason.NodeSelector, "gpu=true"), (listed.Owner, listed.Count, listed.Reason, listed.Detail));
        Assert.Equal(2, decision.Figures.UnplaceablePods);
        Assert.Equal("No new node could host any of the 2 unschedulable pod(s): 2 of ml/Deployment/train (nodeSelector gpu=true)", decision.Reason);
        Assert.Equal("2 pod(s) of ml/Deployment/train: no new node could host them (nodeSelector gpu=true)", decision.Notes[0]);
    }

    [Fact]
    public void Decide_PlaceableBesideUnhostablePods_LaunchesForThePlaceableAndSaysWhichWait()
    {
        var decision = Decide(Snapshot(Busy(2), null, GpuPods, Pods(3, 500, 100, "default/Deployment/web")), settings: TwoZones);

        Assert.Equal((ScalingAction.ScaleUp, 1), (decision.Action, decision.NodesToAdd));
        Assert.EndsWith("; no new node could host 2 pending pod(s): 2 of ml/Deployment/train (nodeSelector gpu=true)", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(5, decision.Figures.UnschedulablePods);
        Assert.Equal(2, decision.Figures.UnplaceablePods);
    }

    [Fact]
    public void Decide_PodsWithAnUnmodelledConstraint_AreNeverLaunchedFor()
    {
        var affine = Pods(1, 100, 100, "default/Deployment/cache").With(new PodConstraints { Unmodelled = ["required pod affinity on kubernetes.io/hostname"] });

        var decision = Decide(Snapshot(Busy(2), null, affine), settings: TwoZones);

        Assert.Equal(DecisionReason.PodsUnplaceable, decision.ReasonCode);
        Assert.Equal(NoScaleUpReason.Unmodelled, Assert.Single(decision.NoScaleUp).Reason);
    }

    [Fact]
    public void Decide_HostnameAntiAffinity_OneNewNodePerPod()
    {
        var spread = Pods(4, 100, 100, "default/Deployment/zk").With(new PodConstraints { AntiAffinity = [new PodAntiAffinity { SelfMatch = true, Nodes = ["a1", "a2", "b1", "b2"] }] });

        var decision = Decide(Snapshot(Busy(2), null, spread), settings: TwoZones);

        Assert.Equal(4, decision.NodesToAdd);
    }

    [Theory]
    [InlineData(5, 5, 2)]  // room for every node: 2 pinned in b, 3 unpinned
    [InlineData(3, 3, 2)]  // capped at 3 by maxStep: the unpinned ones go first
    [InlineData(1, 1, 1)]
    public void Decide_LaunchCappedByMaxStep_KeepsThePinnedNodesFirst(int maxStep, int expectedNodes, int expectedInB)
    {
        var bound = Pods(2, 1500, 100, "default/StatefulSet/db").With(new PodConstraints { NodeAffinity = [Volume("data-db-0", ZoneB)] });

        var decision = Decide(Snapshot(Busy(1), null, bound, Pods(3, 1500, 100)), settings: TwoZones with { MaxStep = maxStep });

        Assert.Equal(expectedNodes, decision.NodesToAdd);
        Assert.Equal(expectedInB, Assert.Single(decision.Zones).Nodes);
    }

    [Fact]
    public void Decide_ZoneSpreadAcrossExistingAndNewNodes_LaunchesWhereTheSkewAllows()
    {
        // a runs 3 replicas, b runs 1: four more go b, b, then one each.
        var web = Pods(4, 1500, 100, "default/Deployment/web").With(new PodConstraints { Spread = [ZoneSpread(1, matching: [("a1", 3), ("b1", 1)])] });

        var decision = Decide(Snapshot(Busy(1), null, web), settings: TwoZones);

        Assert.Equal(4, decision.NodesToAdd);
        Assert.Equal([(ZoneA, 1), (ZoneB, 3)], decision.Zones.Select(z => (z.Zone, z.Nodes)));
    }

    [Theory]
    [InlineData(true, DecisionReason.LaunchInProgress)] // EC2 lists the launching instance in b: it takes the pod
    [InlineData(false, DecisionReason.PendingPods)]     // its zone is not known: a node is launched in b
    public void Decide_ZoneBoundPodWhileANodeLaunches_CountsItOnlyWhenItsZoneIsKnown(bool inventoryKnowsIt, DecisionReason expected)
    {
        var bound = Pods(1, 500, 100).With(new PodConstraints { NodeAffinity = [Volume("data-0", ZoneB)] });
        var snapshot = Snapshot(Busy(1), null, bound);
        var workers = snapshot.Nodes.Where(n => n.IsWorker).ToList();
        var instances = workers.Select(n => new InstanceInfo { InstanceId = n.InstanceId!, Zone = n.Zone!, State = "running", LaunchedAt = Now.AddHours(-5) })
            .Append(new InstanceInfo { InstanceId = "i-new1", Zone = ZoneB, State = "pending", LaunchedAt = Now.AddMinutes(-1) });
        var inventory = new Inventory { Instances = [.. instances], Nodes = snapshot.Nodes };

        var decision = ScalingPolicy.Decide(snapshot, Launching(1), TwoZones, Now, inventoryKnowsIt ? inventory : null);

        Assert.Equal(expected, decision.ReasonCode);
    }

    [Fact]
    public void Decide_NodeHoldingAPodOnlyItCanRun_IsNotRemovedAndTheNoteNamesThePod()
    {
        var pinned = Pods(1, 100, 100, "db/StatefulSet/pg").With(new PodConstraints { NodeSelector = new Dictionary<string, string> { ["disktype"] = "ssd" } });
        var ssd = ZonedWorker("ssd1", ZoneA, 0.05, ("disktype", "ssd")) with { MovablePods = [pinned] };

        var decision = Decide(Snapshot([ssd, ZonedWorker("a2", ZoneA, 0.3), ZonedWorker("b1", ZoneB, 0.3), ZonedWorker("b2", ZoneB, 0.3)], Idle), settings: TwoZones);

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.NotEqual("ssd1", decision.NodeToRemove!.Name);
        Assert.Contains("ssd1: 1 pod(s) of db/StatefulSet/pg could run on no other node (nodeSelector disktype=ssd)", decision.Notes);
    }

    [Fact]
    public void Decide_LastWorkerOfAZoneWhileAnotherHasMore_IsKept()
    {
        var workers = new[] { ZonedWorker("a1", ZoneA, 0.05), ZonedWorker("b1", ZoneB, 0.3), ZonedWorker("b2", ZoneB, 0.3), ZonedWorker("b3", ZoneB, 0.3) };

        var decision = Decide(Snapshot(workers, Idle), settings: TwoZones);

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.StartsWith("b", decision.NodeToRemove!.Name, StringComparison.Ordinal);
        Assert.Contains("a1: the last worker in us-east-1a, while us-east-1b has 3", decision.Notes);
    }

    [Fact]
    public void Decide_OneWorkerPerZone_MayStillLoseOne()
    {
        // No zone has more than one: keeping zones non-empty cannot hold the fleet at peak.
        var workers = new[] { ZonedWorker("a1", ZoneA, 0.05), ZonedWorker("b1", ZoneB, 0.3), ZonedWorker("c1", ZoneC, 0.3) };

        var decision = Decide(Snapshot(workers, Idle), settings: InZones(ZoneA, ZoneB, ZoneC));

        Assert.Equal("a1", decision.NodeToRemove?.Name);
    }

    [Fact]
    public void Decide_EveryDecision_ListsThePodsNoNewNodeCouldHost()
    {
        // Idle and nothing placeable pending: the scale-down goes ahead, and still says which pods wait.
        var decision = Decide(Snapshot(Busy(2).Select(w => w with { Requested = Resources.Zero }), Idle, GpuPods), settings: TwoZones);

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.Equal(2, Assert.Single(decision.NoScaleUp).Count);
        Assert.Contains("no new node could host 2 pending pod(s)", decision.Reason, StringComparison.Ordinal);
    }
}
