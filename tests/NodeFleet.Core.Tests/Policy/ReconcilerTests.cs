using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class ReconcilerTests
{
    private static readonly TimeSpan Join = Defaults.NodeJoinTimeout;

    private static InstanceInfo Instance(string id, TimeSpan age, string? launchId = "launch-1") =>
        new() { InstanceId = id, Zone = "us-east-1a", State = "running", LaunchedAt = Now - age, LaunchId = launchId };

    /// <summary>A managed worker node of instance <paramref name="id"/>, registered <paramref name="age"/> ago.</summary>
    private static NodeInfo NodeOf(string id, TimeSpan age, bool ready, TimeSpan? readyChangedAgo = null) =>
        Worker("node-" + id, created: Now - age) with { InstanceId = id, Ready = ready, ReadyChangedAt = Now - (readyChangedAgo ?? age) };

    private static Inventory Of(IReadOnlyList<InstanceInfo> instances, params NodeInfo[] nodes) => new() { Instances = instances, Nodes = [Master(), .. nodes] };

    [Theory]
    [InlineData("no node, past join timeout", true)]
    [InlineData("no node, within join timeout", false)]
    [InlineData("registered never Ready, past join timeout", true)]
    [InlineData("registered never Ready, within join timeout", false)]
    [InlineData("Ready", false)]
    [InlineData("Ready once, NotReady now", false)] // a repair, not an orphan: its pods are drained first
    public void Plan_Instances_OrphanOnlyWhenNeverAReadyNodePastTheJoinTimeout(string instance, bool orphan)
    {
        var old = Join + TimeSpan.FromMinutes(1);
        var young = Join - TimeSpan.FromMinutes(1);
        var (age, node) = instance switch
        {
            "no node, past join timeout" => (old, null),
            "no node, within join timeout" => (young, null),
            "registered never Ready, past join timeout" => (old, NodeOf("i-1", old - TimeSpan.FromMinutes(2), ready: false)),
            "registered never Ready, within join timeout" => (young, NodeOf("i-1", young - TimeSpan.FromMinutes(2), ready: false)),
            "Ready" => (old, NodeOf("i-1", old, ready: true)),
            _ => (old, NodeOf("i-1", old, ready: false, readyChangedAgo: TimeSpan.FromMinutes(3))),
        };
        var inventory = node is null ? Of([Instance("i-1", age)]) : Of([Instance("i-1", age)], node);

        var plan = Reconciler.Plan(inventory, FleetState.Empty, Defaults, Now);

        Assert.Equal(orphan, plan.Orphans.Any(o => o.InstanceId == "i-1"));
        if (orphan && node is not null)
        {
            Assert.Equal(node.Name, Assert.Single(plan.Orphans).Node);
        }
    }

    [Fact]
    public void Plan_NodeWithoutInstance_IsAGhost_UnmanagedAndMasterNever()
    {
        var ghost = NodeOf("i-gone", TimeSpan.FromHours(1), ready: false, readyChangedAgo: TimeSpan.FromMinutes(1));
        var unmanaged = NodeOf("i-other", TimeSpan.FromHours(1), ready: false) with { Name = "theirs", Managed = false };

        var plan = Reconciler.Plan(Of([], ghost, unmanaged), FleetState.Empty, Defaults, Now);

        Assert.Equal([ghost.Name], plan.Ghosts);
        Assert.Empty(plan.Orphans);
    }

    [Theory]
    [InlineData(CordonReason.ScaleDown, true)]
    [InlineData(CordonReason.Interruption, true)]
    [InlineData(CordonReason.AwaitingInterruption, false)] // cordoned on purpose until the real warning
    public void Plan_NodeFleetCordon_IsStrayUnlessItWaitsForAnInterruption(CordonReason reason, bool stray)
    {
        var mark = new CordonMark { ExecutionId = "arn:exec:old", Reason = reason, At = Now.AddMinutes(-30) };
        var cordoned = NodeOf("i-1", TimeSpan.FromHours(1), ready: true) with { Unschedulable = true, Cordon = mark };
        var operatorCordon = NodeOf("i-2", TimeSpan.FromHours(1), ready: true) with { Unschedulable = true };

        var plan = Reconciler.Plan(Of([Instance("i-1", TimeSpan.FromHours(1)), Instance("i-2", TimeSpan.FromHours(1))], cordoned, operatorCordon), FleetState.Empty, Defaults, Now);

        Assert.Equal(stray ? [cordoned.Name] : [], plan.StrayCordons.Select(c => c.Node));
        Assert.DoesNotContain(plan.StrayCordons, c => c.Node == operatorCordon.Name); // an operator's cordon is theirs
    }

    [Theory]
    [InlineData(1, false)] // the instance goes within the warning's two minutes: keep it out of service
    [InlineData(3, true)]  // still here after the warning: whatever cordoned it is over
    public void Plan_InterruptionCordon_KeptWithinTheWarning(int minutesAgo, bool stray)
    {
        var mark = new CordonMark { ExecutionId = "arn:exec:spot", Reason = CordonReason.Interruption, At = Now.AddMinutes(-minutesAgo) };
        var cordoned = NodeOf("i-1", TimeSpan.FromHours(1), ready: true) with { Unschedulable = true, Cordon = mark };

        var plan = Reconciler.Plan(Of([Instance("i-1", TimeSpan.FromHours(1))], cordoned), FleetState.Empty, Defaults, Now);

        Assert.Equal(stray, plan.StrayCordons.Count == 1);
    }

    [Fact]
    public void Plan_LaunchPastJoinTimeout_IsForgotten()
    {
        var fleet = Launching(1, startedAt: Now - Join);

        var plan = Reconciler.Plan(Of([]), fleet, Defaults, Now);

        Assert.Equal(["launch-1"], plan.ExpiredLaunches);
        Assert.True(plan.HasWork);
    }

    [Fact]
    public void Plan_AllInStep_HasNoWork()
    {
        var plan = Reconciler.Plan(Of([Instance("i-1", TimeSpan.FromHours(1))], NodeOf("i-1", TimeSpan.FromHours(1), ready: true)), FleetState.Empty, Defaults, Now);

        Assert.False(plan.HasWork);
    }

    [Theory]
    [InlineData(11, true)]
    [InlineData(9, false)]
    public void RepairCandidate_ReadyOnceThenNotReady_AfterRepairAfter(int notReadyMinutes, bool repaired)
    {
        var broken = NodeOf("i-1", TimeSpan.FromHours(2), ready: false, readyChangedAgo: TimeSpan.FromMinutes(notReadyMinutes));

        var candidate = Reconciler.RepairCandidate(Of([Instance("i-1", TimeSpan.FromHours(2))], broken), Defaults, Now);

        Assert.Equal(repaired ? broken.Name : null, candidate?.Name);
    }
}
