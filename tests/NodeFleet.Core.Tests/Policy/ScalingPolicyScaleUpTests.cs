using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class ScalingPolicyScaleUpTests
{
    [Theory]
    [InlineData(3, 500, 1024, 1)]     // four 500m pods per 2000m worker
    [InlineData(10, 500, 1024, 3)]
    [InlineData(5, 1500, 512, 5)]     // one per worker by CPU
    [InlineData(4, 100, 4096, 4)]     // one per worker by memory (7680Mi)
    [InlineData(250, 1, 1, 3)]        // pod slots: 110 per worker
    [InlineData(9, 700, 2048, 5)]     // two per worker by CPU, three by memory
    public void Decide_UnschedulablePods_LaunchesEnoughNodesInOneStep(int pods, long cpu, long memoryMiB, int expected)
    {
        var snapshot = Snapshot(Workers(3), null, Pods(pods, cpu, memoryMiB));

        var decision = Decide(snapshot);

        Assert.Equal(ScalingAction.ScaleUp, decision.Action);
        Assert.Equal(DecisionReason.PendingPods, decision.ReasonCode);
        Assert.Equal(expected, decision.NodesToAdd);
        Assert.Equal(expected, decision.Figures.NodesForPendingPods);
        Assert.Equal(CooldownScope.None, decision.Cooldown);
    }

    [Fact]
    public void Decide_PendingPodsOfMixedSizes_PacksLargestFirst()
    {
        // In arrival order, first fit needs 3 nodes (800+800, 1200, 1200); decreasing order needs 2.
        var snapshot = Snapshot(Workers(3), null, Pods(2, 800, 100), Pods(2, 1200, 100));

        var decision = Decide(snapshot);

        Assert.Equal(2, decision.NodesToAdd);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 1)]
    public void Decide_NodesAlreadyLaunching_AreSubtracted(int launching, int expected)
    {
        var snapshot = Snapshot(Workers(3), null, Pods(10, 500, 100)); // needs 3 nodes

        var decision = Decide(snapshot, Launching(launching));

        Assert.Equal(expected, decision.NodesToAdd);
        Assert.Equal(launching, decision.Figures.LaunchingWorkers);
    }

    [Fact]
    public void Decide_LaunchingCapacityCoversPendingPods_WaitsInsteadOfLaunching()
    {
        var snapshot = Snapshot(Workers(3), null, Pods(10, 500, 100));

        var decision = Decide(snapshot, Launching(3));

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.LaunchInProgress, decision.ReasonCode);
    }

    [Fact]
    public void Decide_LaunchPastJoinTimeout_NoLongerCountsAsCapacity()
    {
        var snapshot = Snapshot(Workers(3), null, Pods(10, 500, 100));
        var stale = Launching(3, startedAt: Now - Defaults.NodeJoinTimeout - TimeSpan.FromSeconds(1));

        var decision = Decide(snapshot, stale);

        Assert.Equal(3, decision.NodesToAdd);
        Assert.Equal(0, decision.Figures.LaunchingWorkers);
    }

    [Fact]
    public void Decide_LaunchedInstanceAlreadyReady_IsNotCountedAsLaunching()
    {
        var joined = Worker("new1") with { InstanceId = "i-new1" };
        var snapshot = Snapshot([.. Workers(3), joined], null, Pods(10, 500, 100));

        var decision = Decide(snapshot, Launching(1));

        Assert.Equal(0, decision.Figures.LaunchingWorkers);
        Assert.Equal(3, decision.NodesToAdd);
    }

    [Fact]
    public void Decide_NodeJoinedMomentsAgo_ItsFreeRoomAbsorbsPendingPods()
    {
        var fresh = Worker("fresh", requestedShare: 0, created: Now.AddSeconds(-30));
        var snapshot = Snapshot([.. Workers(3), fresh], null, Pods(10, 500, 100));

        var decision = Decide(snapshot);

        Assert.Equal(2, decision.NodesToAdd); // four of the ten pods go to the fresh node
    }

    [Fact]
    public void Decide_OnlyPodsLargerThanAWorker_ReportsUnplaceableAndLaunchesNothing()
    {
        var snapshot = Snapshot(Workers(3), null, Pods(2, 4000, 1024, "default/Deployment/huge"));

        var decision = Decide(snapshot);

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.PodsUnplaceable, decision.ReasonCode);
        Assert.Equal(2, decision.Figures.UnplaceablePods);
        Assert.Contains(decision.Notes, n => n.Contains("default/Deployment/huge", StringComparison.Ordinal));
    }

    [Fact]
    public void Decide_UnplaceablePodsBesidePlaceableOnes_LaunchesOnlyForThePlaceable()
    {
        var snapshot = Snapshot(Workers(3), null, Pods(2, 100, 9000), Pods(3, 500, 100));

        var decision = Decide(snapshot);

        Assert.Equal(1, decision.NodesToAdd);
        Assert.Equal(2, decision.Figures.UnplaceablePods);
        Assert.Equal(5, decision.Figures.UnschedulablePods);
    }

    [Theory]
    [InlineData(3, 0.80, 1)]
    [InlineData(3, 0.95, 2)]
    [InlineData(5, 0.90, 3)]
    [InlineData(2, 0.71, 1)]
    public void Decide_CpuAboveThresholdForWholeWindow_AddsNodesToReachTarget(int workers, double cpu, int expected)
    {
        var snapshot = Snapshot(Workers(workers), Utilization(cpu: cpu));

        var decision = Decide(snapshot);

        Assert.Equal(ScalingAction.ScaleUp, decision.Action);
        Assert.Equal(DecisionReason.CpuHigh, decision.ReasonCode);
        Assert.Equal(expected, decision.NodesToAdd);
        Assert.Equal(CooldownScope.ScaleUp, decision.Cooldown);
    }

    [Fact]
    public void Decide_CpuHighNowButNotForWholeWindow_DoesNotScale()
    {
        var utilization = Utilization() with { CpuNow = 0.95, CpuMinOverUpWindow = 0.65 };

        var decision = Decide(Snapshot(Workers(3), utilization));

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.WithinThresholds, decision.ReasonCode);
    }

    [Theory]
    [InlineData(0.76, null, ScalingAction.ScaleUp)]
    [InlineData(0.75, null, ScalingAction.None)]
    [InlineData(0.90, 1.5, ScalingAction.ScaleUp)]   // the pods use half again what they request
    [InlineData(0.90, 1.0, ScalingAction.None)]      // they use what they request: the requests bound it
    public void Decide_MemoryAboveThreshold_ScalesUpUnlessCountedByRequests(double memory, double? useOfRequests, ScalingAction expected)
    {
        var decision = Decide(Snapshot(Workers(3), Utilization(memory: memory) with { MemoryUseOfRequests = useOfRequests }));

        Assert.Equal(expected, decision.Action);
        Assert.Equal(useOfRequests, decision.Figures.MemoryUseOfRequests);
        if (expected == ScalingAction.ScaleUp)
        {
            Assert.Equal(DecisionReason.MemoryHigh, decision.ReasonCode);
        }
        else if (useOfRequests is not null)
        {
            Assert.Contains("memory counts by requests", decision.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Decide_CpuNeedsMoreThanPendingPods_TakesTheLargerNeed()
    {
        var snapshot = Snapshot(Workers(3), Utilization(cpu: 0.95), Pods(3, 500, 100));

        var decision = Decide(snapshot);

        Assert.Equal(DecisionReason.CpuHigh, decision.ReasonCode);
        Assert.Equal(2, decision.NodesToAdd);
        Assert.Equal(1, decision.Figures.NodesForPendingPods);
    }

    [Fact]
    public void Decide_AtMaximum_DoesNotLaunchAndSaysSo()
    {
        var snapshot = Snapshot(Workers(10), null, Pods(3, 500, 100));

        var decision = Decide(snapshot);

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.AtMaximum, decision.ReasonCode);
        Assert.Equal(10, decision.Figures.ManagedWorkers);
    }

    [Fact]
    public void Decide_LaunchingInstancesCountTowardMaximum()
    {
        var snapshot = Snapshot(Workers(8), null, Pods(20, 1500, 100));

        var decision = Decide(snapshot, Launching(2));

        Assert.Equal(DecisionReason.AtMaximum, decision.ReasonCode);
    }

    [Theory]
    [InlineData(10, 8, 2)]  // capped by maxNodes
    [InlineData(3, 3, 3)]   // capped by maxStep
    [InlineData(2, 3, 2)]
    public void Decide_NeedBeyondLimits_IsCapped(int maxStep, int workers, int expected)
    {
        var settings = Defaults with { MaxStep = maxStep };
        var snapshot = Snapshot(Workers(workers), null, Pods(5, 1500, 100)); // needs 5

        var decision = Decide(snapshot, settings: settings);

        Assert.Equal(expected, decision.NodesToAdd);
        Assert.Contains("capped", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_CpuHighDuringScaleUpCooldown_Waits()
    {
        var fleet = FleetState.Empty with { LastScaleUpAt = Now.AddMinutes(-2) };

        var decision = Decide(Snapshot(Workers(3), Utilization(cpu: 0.9)), fleet);

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.ScaleUpCooldown, decision.ReasonCode);
        Assert.Equal(Now.AddMinutes(3), decision.Figures.CooldownEndsAt);
    }

    [Fact]
    public void Decide_CpuHighAfterScaleUpCooldown_ScalesUp()
    {
        var fleet = FleetState.Empty with { LastScaleUpAt = Now - Defaults.ScaleUpCooldown };

        var decision = Decide(Snapshot(Workers(3), Utilization(cpu: 0.9)), fleet);

        Assert.Equal(ScalingAction.ScaleUp, decision.Action);
    }

    [Fact]
    public void Decide_PendingPodsDuringScaleUpCooldown_LaunchForThePodsOnly()
    {
        var fleet = FleetState.Empty with { LastScaleUpAt = Now.AddMinutes(-1) };
        var snapshot = Snapshot(Workers(3), Utilization(cpu: 0.95), Pods(3, 500, 100));

        var decision = Decide(snapshot, fleet);

        Assert.Equal(DecisionReason.PendingPods, decision.ReasonCode);
        Assert.Equal(1, decision.NodesToAdd);
        Assert.Equal(CooldownScope.None, decision.Cooldown);
    }

    [Fact]
    public void Decide_CustomMetricAboveTarget_ScalesToDesiredCount()
    {
        var settings = Defaults with { CustomMetricQuery = "sum(queue_depth)", CustomMetricTargetPerNode = 10 };
        var snapshot = Snapshot(Workers(3)) with { CustomMetricValue = 55 };

        var decision = Decide(snapshot, settings: settings);

        Assert.Equal(DecisionReason.CustomMetricHigh, decision.ReasonCode);
        Assert.Equal(3, decision.NodesToAdd); // ceil(55 / 10) = 6 workers
    }

    [Fact]
    public void Decide_PredictedCpuAboveThreshold_ScalesUpAhead()
    {
        var settings = Defaults with { PredictiveHorizon = TimeSpan.FromMinutes(10) };
        var snapshot = Snapshot(Workers(3)) with { PredictedCpuUtilization = 0.9 };

        var decision = Decide(snapshot, settings: settings);

        Assert.Equal(DecisionReason.PredictedCpuHigh, decision.ReasonCode);
        Assert.Equal(2, decision.NodesToAdd);
    }

    [Fact]
    public void Decide_PredictionWhilePredictiveScalingOff_IsIgnored()
    {
        var snapshot = Snapshot(Workers(3)) with { PredictedCpuUtilization = 0.9 };

        var decision = Decide(snapshot);

        Assert.Equal(ScalingAction.None, decision.Action);
    }

    [Fact]
    public void Decide_FarMorePendingPodsThanMaximumHolds_LaunchesUpToMaximumSayingAtLeast()
    {
        var snapshot = Snapshot(Workers(3), null, Pods(5000, 1500, 100));

        var decision = Decide(snapshot);

        Assert.Equal(7, decision.NodesToAdd);
        Assert.Contains("at least 11", decision.Reason, StringComparison.Ordinal);
    }
}
