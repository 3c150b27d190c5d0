using NodeFleet.Core.Contracts;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class ScalingPolicyHeadroomTests
{
    /// <summary>Requested CPU rose within the headroom window, in every quarter of it: the workload grows.</summary>
    private static ClusterSnapshot Growing(ClusterSnapshot snapshot) => snapshot with { RequestedCpuRise = 500, RequestedCpuRisingQuarters = 4 };

    [Theory]
    [InlineData(null)] // unknown: never launches on missing data
    [InlineData(0.0)]  // flat or shrinking: no spare node
    public void Decide_WorkloadNotGrowing_KeepsNoHeadroom(double? rise)
    {
        var decision = Decide(Snapshot(Workers(3, 1.0)) with { RequestedCpuRise = rise });

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(0, decision.Figures.NodesForHeadroom);
    }

    [Theory]
    [InlineData(0.90, 0.25, 0)] // 3 x 200m free: 600m, above the 500m kept
    [InlineData(0.95, 0.25, 1)] // 3 x 100m free: 300m, below it: one node ahead
    [InlineData(0.95, 0.10, 0)] // 300m free is enough for a 200m headroom
    [InlineData(1.00, 0.00, 0)] // 0 % turns it off
    public void Decide_RoomLeftOnTheWorkers_KeepsTheHeadroom(double requestedShare, double headroom, int expected)
    {
        var settings = Defaults with { Headroom = headroom };

        var decision = Decide(Growing(Snapshot(Workers(3, requestedShare))), settings: settings);

        Assert.Equal(expected, decision.NodesToAdd);
        Assert.Equal(expected, decision.Figures.NodesForHeadroom);
        if (expected > 0)
        {
            Assert.Equal(DecisionReason.Headroom, decision.ReasonCode);
            Assert.Equal(CooldownScope.None, decision.Cooldown); // counted, not measured: no cooldown
            Assert.Contains("headroom of 25%", decision.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Decide_ANodeLaunching_CountsItsRoom()
    {
        var decision = Decide(Growing(Snapshot(Workers(3, 1.0))), Launching(1));

        Assert.NotEqual(DecisionReason.Headroom, decision.ReasonCode);
        Assert.Equal(0, decision.NodesToAdd);
    }

    [Fact]
    public void Decide_AtTheMaximum_NeitherLaunchesNorReportsAtMaximum()
    {
        var settings = Defaults with { MaxNodes = 3 };

        var decision = Decide(Growing(Snapshot(Workers(3, 1.0))), settings: settings);

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.NotEqual(DecisionReason.AtMaximum, decision.ReasonCode);
    }

    [Fact]
    public void Decide_PodsPending_ThePodsDecideAlone()
    {
        var decision = Decide(Growing(Snapshot(Workers(3, 1.0), null, Pods(4, 1500, 100))));

        Assert.Equal(DecisionReason.PendingPods, decision.ReasonCode);
        Assert.Equal(4, decision.NodesToAdd);
        Assert.Equal(0, decision.Figures.NodesForHeadroom);
    }

    [Fact]
    public void Decide_CordonedWorkersRoom_DoesNotCount()
    {
        var workers = Workers(2, 1.0).Append(Worker("w3", 0.0) with { Unschedulable = true });

        var decision = Decide(Growing(Snapshot(workers)));

        Assert.Equal(DecisionReason.Headroom, decision.ReasonCode);
    }

    [Theory]
    [InlineData(0.25, ScalingAction.ScaleDown)]
    [InlineData(1.00, ScalingAction.None)] // 2 x 900m would stay free, less than a whole worker
    public void Decide_ScaleDownThatWouldLeaveLessThanTheHeadroom_IsRefused(double headroom, ScalingAction expected)
    {
        var settings = Defaults with { Headroom = headroom };

        var decision = Decide(Growing(Snapshot(Workers(3, 0.55), Utilization(cpu: 0.1, memory: 0.1))), settings: settings);

        Assert.Equal(expected, decision.Action);
        if (expected == ScalingAction.None)
        {
            Assert.Equal(DecisionReason.NoRemovableNode, decision.ReasonCode);
            Assert.Contains("headroom of 100% of a worker would stay unrequested", decision.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Decide_HeadroomAndCpuAskTheSame_CpuIsTheReason()
    {
        // Two full workers at 80 % CPU: CPU asks for one node to reach 60 %, the headroom too.
        var decision = Decide(Growing(Snapshot(Workers(2, 1.0), Utilization(cpu: 0.8, memory: 0.3))));

        Assert.Equal(1, decision.NodesToAdd);
        Assert.Equal(DecisionReason.CpuHigh, decision.ReasonCode);
        Assert.Equal(1, decision.Figures.NodesForHeadroom);
    }
}
