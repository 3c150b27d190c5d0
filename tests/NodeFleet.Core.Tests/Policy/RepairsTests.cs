using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class RepairsTests
{
    private static readonly TimeSpan Old = TimeSpan.FromHours(3);

    private static (ClusterSnapshot Snapshot, Inventory Inventory) Cluster(int workers, int notReady, TimeSpan? notReadyFor = null)
    {
        var nodes = Enumerable.Range(1, workers).Select(i => Worker($"w{i}", created: Now - Old) with
        {
            Ready = i > notReady,
            ReadyChangedAt = i > notReady ? Now - Old : Now - (notReadyFor ?? TimeSpan.FromMinutes(15)) - TimeSpan.FromSeconds(i),
        }).ToList();
        var instances = nodes.Select(n => new InstanceInfo { InstanceId = n.InstanceId!, Zone = "us-east-1a", State = "running", LaunchedAt = Now - Old }).ToList();
        return (Snapshot(nodes), new Inventory { Instances = instances, Nodes = [Master(), .. nodes] });
    }

    [Fact]
    public void Decide_WorkerNotReadyPastRepairAfter_ReplacesTheLongestBrokenWithoutPreempting()
    {
        var (snapshot, inventory) = Cluster(workers: 5, notReady: 2);

        var decision = ScalingPolicy.Decide(snapshot, FleetState.Empty, Defaults, Now, inventory);

        Assert.Equal((ScalingAction.Replace, DecisionReason.Unhealthy, WorkflowRoute.Replace, 1), (decision.Action, decision.ReasonCode, decision.Route, decision.NodesToAdd));
        Assert.Equal("w2", decision.NodeToRemove!.Name); // broken a second longer than w1
        Assert.False(decision.Preempts);
        Assert.Equal(2, decision.Figures.NotReadyWorkers);
        Assert.Contains("NotReady for 15m", decision.Reason, StringComparison.Ordinal);
        // Drained like an interruption, with a deadline: budgets may hold a broken node two minutes, never keep it.
        Assert.Equal(Now + InterruptionNotice.SpotWarning, decision.Interruption!.NotAfter);
    }

    [Fact]
    public void Decide_RepairAtTheMaximum_RetiresWithoutReplacement()
    {
        var (snapshot, inventory) = Cluster(workers: 3, notReady: 1);

        var decision = ScalingPolicy.Decide(snapshot, FleetState.Empty, Defaults with { MaxNodes = 3, MinNodes = 1 }, Now, inventory);

        Assert.Equal((DecisionReason.Unhealthy, WorkflowRoute.Retire, 0), (decision.ReasonCode, decision.Route, decision.NodesToAdd));
    }

    [Theory]
    [InlineData(5, 2, false)] // 40 %: broken nodes, repaired
    [InlineData(4, 2, true)]  // 50 %: the cluster's fault
    [InlineData(2, 1, true)]
    public void Decide_ShareNotReady_AboveMaxUnhealthyShare_HoldsRepairsAndScaling(int workers, int notReady, bool held)
    {
        var (snapshot, inventory) = Cluster(workers, notReady);

        var decision = ScalingPolicy.Decide(snapshot, FleetState.Empty, Defaults with { MinNodes = 1 }, Now, inventory);

        Assert.Equal(held, decision.ReasonCode == DecisionReason.RepairsHeld);
        if (held)
        {
            Assert.Equal((ScalingAction.None, WorkflowRoute.Reconcile, true), (decision.Action, decision.Route, decision.Alert));
            Assert.Contains($"{notReady} of {workers} managed workers are NotReady", decision.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Decide_RepairsHeldAndOperatorsToldRecently_NoNewNotification()
    {
        var (snapshot, inventory) = Cluster(workers: 2, notReady: 1);
        var fleet = FleetState.Empty with { RepairsHeldNotifiedAt = Now - TimeSpan.FromMinutes(20) };

        var decision = ScalingPolicy.Decide(snapshot, fleet, Defaults with { MinNodes = 1 }, Now, inventory);

        Assert.Equal((DecisionReason.RepairsHeld, false, WorkflowRoute.Done), (decision.ReasonCode, decision.Alert, decision.Route));
    }

    [Fact]
    public void Decide_NotReadyUnderRepairAfter_ScalesAsUsual()
    {
        var (snapshot, inventory) = Cluster(workers: 5, notReady: 1, notReadyFor: TimeSpan.FromMinutes(2));

        var decision = ScalingPolicy.Decide(snapshot, FleetState.Empty, Defaults, Now, inventory);

        Assert.NotEqual(DecisionReason.Unhealthy, decision.ReasonCode);
        Assert.Equal(1, decision.Figures.NotReadyWorkers);
    }
}

public class RepairsJoiningTests
{
    [Fact]
    public void Decide_NodesStillJoiningNotReady_AreNotBrokenWorkers_NoHold()
    {
        // Two Ready workers and three new nodes registered moments ago, not Ready yet: a scale-up in progress.
        var ready = Enumerable.Range(1, 2).Select(i => Worker($"w{i}", created: Now.AddHours(-3)) with { ReadyChangedAt = Now.AddHours(-3) });
        var joining = Enumerable.Range(1, 3).Select(i => Worker($"n{i}", created: Now.AddSeconds(-40)) with { Ready = false, ReadyChangedAt = Now.AddSeconds(-38) });
        var nodes = ready.Concat(joining).ToList();
        var inventory = new Inventory
        {
            Instances = nodes.Select(n => new InstanceInfo { InstanceId = n.InstanceId!, Zone = "us-east-1a", State = "running", LaunchedAt = n.CreatedAt!.Value.AddSeconds(-30) }).ToList(),
            Nodes = [Master(), .. nodes],
        };

        var decision = ScalingPolicy.Decide(Snapshot(nodes), FleetState.Empty, Defaults, Now, inventory);

        Assert.NotEqual(DecisionReason.RepairsHeld, decision.ReasonCode);
        Assert.Equal(0, decision.Figures.NotReadyWorkers);
    }
}
