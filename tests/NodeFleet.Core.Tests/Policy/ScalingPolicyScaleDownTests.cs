using NodeFleet.Core.Contracts;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class ScalingPolicyScaleDownTests
{
    private static readonly UtilizationMetrics Idle = Utilization(cpu: 0.1, memory: 0.2);

    /// <summary>Workers whose requests are pods that would have to move (none is empty).</summary>
    private static IEnumerable<NodeInfo> Busy(int count) =>
        Enumerable.Range(1, count).Select(i => Worker($"w{i}", 0.2, null, Pods(2, 200, 768)));

    [Theory]
    [InlineData(0.29, 0.44, ScalingAction.ScaleDown)]
    [InlineData(0.10, 0.10, ScalingAction.ScaleDown)]
    [InlineData(0.30, 0.20, ScalingAction.None)]  // CPU not below its threshold for the whole window
    [InlineData(0.10, 0.50, ScalingAction.None)]  // memory not below its threshold
    public void Decide_DownConditionsOverWindow_ScaleDownOnlyWhenAllHold(double cpuMax, double memoryMax, ScalingAction expected)
    {
        var utilization = Utilization(cpu: 0.05, memory: 0.05) with { CpuMaxOverDownWindow = cpuMax, MemoryMaxOverDownWindow = memoryMax };

        var decision = Decide(Snapshot(Busy(4), utilization));

        Assert.Equal(expected, decision.Action);
        Assert.Equal(expected == ScalingAction.ScaleDown ? DecisionReason.Underutilized : DecisionReason.WithinThresholds, decision.ReasonCode);
    }

    [Fact]
    public void Decide_Underutilized_RemovesLeastUtilizedWorker()
    {
        var workers = new[] { Worker("w1", 0.3), Worker("w2", 0.1), Worker("w3", 0.2), Worker("w4", 0.3) };

        var decision = Decide(Snapshot(workers, Idle));

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.Equal("w2", decision.NodeToRemove?.Name);
        Assert.Equal("i-w2", decision.NodeToRemove?.InstanceId);
        Assert.Equal(CooldownScope.ScaleDown, decision.Cooldown);
    }

    [Fact]
    public void Decide_EquallyUtilizedWorkers_RemovesNewest()
    {
        var workers = new[] { Worker("old", 0.1, Now.AddDays(-2)), Worker("new", 0.1, Now.AddHours(-1)), Worker("mid", 0.1, Now.AddDays(-1)) };

        var decision = Decide(Snapshot(workers, Idle));

        Assert.Equal("new", decision.NodeToRemove?.Name);
    }

    [Fact]
    public void Decide_PendingPods_NeverScalesDown()
    {
        var decision = Decide(Snapshot(Workers(4), Idle, Pods(1, 100, 100)));

        Assert.NotEqual(ScalingAction.ScaleDown, decision.Action);
    }

    [Fact]
    public void Decide_PendingPodsFitOnJustJoinedNode_NeitherLaunchesNorScalesDown()
    {
        var fresh = Worker("fresh", requestedShare: 0, created: Now.AddSeconds(-30));

        var decision = Decide(Snapshot([.. Workers(4), fresh], Idle, Pods(2, 500, 100)));

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.LaunchInProgress, decision.ReasonCode);
    }

    [Fact]
    public void Decide_OnlyUnplaceablePodsPending_StillScalesDown()
    {
        // A pod no worker can ever hold must not keep the whole fleet at peak size.
        var decision = Decide(Snapshot(Workers(4), Idle, Pods(1, 64000, 100)));

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.Equal(1, decision.Figures.UnplaceablePods);
    }

    [Fact]
    public void Decide_AtMinimum_KeepsWorkers()
    {
        var decision = Decide(Snapshot(Workers(2), Idle));

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.AtMinimum, decision.ReasonCode);
    }

    [Theory]
    [InlineData(-1, null, DecisionReason.ScaleDownCooldown)]      // 1 min after a scale-down (cooldown 2 min)
    [InlineData(null, -3, DecisionReason.ScaleDownCooldown)]      // 3 min after a scale-up (cooldown 5 min)
    [InlineData(-10, -5, DecisionReason.Underutilized)]           // both cooldowns over
    public void Decide_Cooldowns_DelayScaleDown(int? minutesSinceDown, int? minutesSinceUp, DecisionReason expected)
    {
        var fleet = FleetState.Empty with
        {
            LastScaleDownAt = minutesSinceDown is { } d ? Now.AddMinutes(d) : null,
            LastScaleUpAt = minutesSinceUp is { } u ? Now.AddMinutes(u) : null,
        };

        var decision = Decide(Snapshot(Workers(4), Idle), fleet);

        Assert.Equal(expected, decision.ReasonCode);
    }

    [Fact]
    public void Decide_NodesLaunching_NoScaleDown()
    {
        var decision = Decide(Snapshot(Workers(4), Idle), Launching(1));

        Assert.Equal(DecisionReason.LaunchInProgress, decision.ReasonCode);
    }

    [Fact]
    public void Decide_MasterLeastUtilized_IsNeverRemoved()
    {
        var idleMaster = Master() with { Requested = Resources.Zero, Managed = true };
        var snapshot = Snapshot(Workers(4, 0.3), Idle) with { Nodes = [idleMaster, .. Workers(4, 0.3)] };

        var decision = Decide(snapshot);

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.NotEqual("master", decision.NodeToRemove?.Name);
    }

    [Theory]
    [MemberData(nameof(IneligibleNodes))]
    public void Decide_LeastUtilizedNodeIneligible_RemovesAnother(NodeInfo ineligible)
    {
        var snapshot = Snapshot([ineligible, .. Workers(4, 0.3)], Idle);

        var decision = Decide(snapshot);

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.NotEqual(ineligible.Name, decision.NodeToRemove?.Name);
    }

    public static TheoryData<NodeInfo> IneligibleNodes() => new()
    {
        Worker("unmanaged", 0.0) with { Managed = false },
        Worker("notready", 0.0) with { Ready = false },
        Worker("cordoned", 0.0) with { Unschedulable = true },
        Worker("noinstance", 0.0) with { InstanceId = null },
        Worker("crowded", 0.05, null, Pods(2, 1500, 100)), // 1500m pods fit nowhere under 60 %
    };

    [Theory]
    [InlineData(EvictionBlockReason.NoController)]
    [InlineData(EvictionBlockReason.LocalStorage)]
    [InlineData(EvictionBlockReason.SafeToEvictFalse)]
    [InlineData(EvictionBlockReason.DoNotDisrupt)]
    [InlineData(EvictionBlockReason.KubeSystem)]
    [InlineData(EvictionBlockReason.PodDisruptionBudget)]
    public void Decide_NodeWithUnevictablePod_IsSkippedWithNote(EvictionBlockReason reason)
    {
        var blocked = Worker("blocked", 0.0) with { Blockers = [new EvictionBlocker { Pod = "default/db-0", Reason = reason }] };

        var decision = Decide(Snapshot([blocked, .. Workers(4, 0.3)], Idle));

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.NotEqual("blocked", decision.NodeToRemove?.Name);
        Assert.Contains(decision.Notes, n => n.Contains("default/db-0", StringComparison.Ordinal) && n.Contains(reason.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Decide_EveryCandidateBlocked_ReportsNoRemovableNode()
    {
        var workers = Workers(3).Select(w => w with { Blockers = [new EvictionBlocker { Pod = $"default/{w.Name}-pod", Reason = EvictionBlockReason.NoController }] });

        var decision = Decide(Snapshot(workers, Idle));

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.NoRemovableNode, decision.ReasonCode);
        Assert.Contains("may not be evicted", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_RemovalWouldPushUsageOverTarget_KeepsNode()
    {
        // Two workers at 49 % memory: one alone would run at 98 %.
        var utilization = Utilization(cpu: 0.1, memory: 0.49);

        var decision = Decide(Snapshot(Workers(2), utilization), settings: Defaults with { MinNodes = 1 });

        Assert.Equal(DecisionReason.NoRemovableNode, decision.ReasonCode);
        Assert.Contains("usage would reach", decision.Notes[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_CustomMetricStillNeedsTheWorkers_NoScaleDown()
    {
        var settings = Defaults with { CustomMetricQuery = "sum(queue_depth)", CustomMetricTargetPerNode = 10 };

        var busy = Decide(Snapshot(Workers(4), Idle) with { CustomMetricValue = 35 }, settings: settings);
        var quiet = Decide(Snapshot(Workers(4), Idle) with { CustomMetricValue = 25 }, settings: settings);

        Assert.Equal(ScalingAction.None, busy.Action);
        Assert.Equal(ScalingAction.ScaleDown, quiet.Action);
    }

    [Theory]
    [InlineData(0.40, ScalingAction.ScaleDown)] // CPU above the scale-down threshold, yet w4 runs nothing that would move: 40 % x 4/3 = 53 %
    [InlineData(0.44, ScalingAction.ScaleDown)] // 59 %
    [InlineData(0.46, ScalingAction.None)]      // without it usage would reach 61 %, above the 60 % target
    public void Decide_EmptyWorkerWhileBusy_GoesIfTheOthersCarryTheLoad(double cpuMax, ScalingAction expected)
    {
        var workers = Busy(3).Append(Worker("w4", 0.05));

        var decision = Decide(Snapshot(workers, Utilization(cpu: cpuMax, memory: 0.3)) with { RequestedCpuSwing = 0 });

        Assert.Equal(expected, decision.Action);
        if (expected == ScalingAction.ScaleDown)
        {
            Assert.Equal(DecisionReason.EmptyNode, decision.ReasonCode);
            Assert.Equal("w4", decision.NodeToRemove!.Name);
        }
    }

    [Fact]
    public void Decide_EmptyWorkerWithinTheCooldown_Stays()
    {
        var workers = Busy(3).Append(Worker("w4", 0.05));

        var decision = Decide(Snapshot(workers, Utilization(0.4, 0.3)) with { RequestedCpuSwing = 0 }, new FleetState { LastScaleDownAt = Now.AddMinutes(-1) });

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.ScaleDownCooldown, decision.ReasonCode);
    }

    [Theory]
    [InlineData(null)]  // unknown
    [InlineData(750.0)] // requests moved within the headroom window: the pods may be back in minutes
    public void Decide_EmptyWorkerWhileRequestsMove_Stays(double? swing)
    {
        var workers = Busy(3).Append(Worker("w4", 0.05));

        var decision = Decide(Snapshot(workers, Utilization(cpu: 0.4, memory: 0.3)) with { RequestedCpuSwing = swing });

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.WithinThresholds, decision.ReasonCode);
    }

    /// <summary>Two busy workers and <paramref name="empty"/> workers that run nothing that would move (a burst's nodes after it ended).</summary>
    private static readonly UtilizationMetrics Quiet = Utilization(cpu: 0.1, memory: 0.1);

    private static List<NodeInfo> AfterBurst(int empty) =>
        [.. Busy(2), .. Enumerable.Range(1, empty).Select(i => Worker($"e{i}", 0.02, Now.AddMinutes(-30 - i)))];

    [Fact]
    public void Decide_SeveralEmptyWorkers_RemovesThemInOneScaleDown()
    {
        var decision = Decide(Snapshot(AfterBurst(5), Quiet));

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.Equal(["e1", "e2", "e3", "e4", "e5"], new[] { decision.NodeToRemove!.Name }.Concat(decision.AlsoEmpty.Select(n => n.Name)).Order());
        Assert.All(decision.AlsoEmpty, n => Assert.StartsWith("i-e", n.InstanceId, StringComparison.Ordinal));
        Assert.Contains("and 4 other empty workers", decision.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10, 2, 4)] // all five go: the two busy workers stay, the minimum holds, usage 10 % x 7/2 = 35 %
    [InlineData(3, 2, 2)]  // maxEmptyRemovals: three in all
    [InlineData(1, 2, 0)]  // one per scale-down, as before
    [InlineData(10, 5, 1)] // the minimum of 5 leaves room for two removals of seven workers
    public void Decide_EmptyWorkersTogether_WithinMaxEmptyRemovalsAndTheMinimum(int maxEmptyRemovals, int minNodes, int alsoExpected)
    {
        var settings = Defaults with { MaxEmptyRemovals = maxEmptyRemovals, MinNodes = minNodes };

        var decision = Decide(Snapshot(AfterBurst(5), Quiet), settings: settings);

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.Equal(alsoExpected, decision.AlsoEmpty.Count);
    }

    [Fact]
    public void Decide_EmptyWorkersTogether_UsageWithoutAllOfThemStaysUnderTheTarget()
    {
        // 25 % over five workers: without two it is 42 %, without three 63 %, above the 60 % target.
        var decision = Decide(Snapshot(AfterBurst(3), Utilization(cpu: 0.25, memory: 0.2)), settings: Defaults with { MinNodes = 1 });

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.Single(decision.AlsoEmpty);
    }

    [Fact]
    public void Decide_EmptyWorkersTogether_NeverEmptyAZoneWhileAnotherHasMore()
    {
        var workers = new[]
        {
            Worker("a1", 0.2, null, Pods(2, 200, 768)), Worker("a2", 0.2, null, Pods(2, 200, 768)),
            Worker("b1", 0.02) with { Zone = "us-east-1b" }, Worker("b2", 0.02) with { Zone = "us-east-1b" },
        };

        var decision = Decide(Snapshot(workers, Idle));

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.StartsWith("b", decision.NodeToRemove!.Name, StringComparison.Ordinal);
        Assert.Empty(decision.AlsoEmpty);
    }

    [Fact]
    public void Decide_LeastUtilizedWorkerHasPodsToMove_GoesAlone()
    {
        var decision = Decide(Snapshot(Busy(4), Idle));

        Assert.Equal(ScalingAction.ScaleDown, decision.Action);
        Assert.Empty(decision.AlsoEmpty);
    }
}
