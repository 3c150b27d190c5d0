using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class FleetViewTests
{
    [Theory]
    [InlineData("ready managed", 1, 1, 1, 1)]
    [InlineData("ready unmanaged", 1, 0, 0, 0)]          // measured, but neither ours to count nor to remove
    [InlineData("not ready managed", 0, 0, 0, 1)]        // runs, so counts toward the maximum only
    [InlineData("launching, no node yet", 0, 0, 1, 1)]
    [InlineData("launching, node not ready", 0, 0, 1, 1)]
    [InlineData("launching, node ready", 1, 1, 1, 1)]    // joined: a worker, no longer launching
    [InlineData("launch past join timeout", 0, 0, 0, 0)] // a failed launch stops counting
    public void Counts_EachKindOfWorker_CountsWhereItBelongs(string worker, int allReady, int readyManaged, int towardMinimum, int towardMaximum)
    {
        var nodes = worker switch
        {
            "ready managed" => [Worker("w1")],
            "ready unmanaged" => [Worker("w1") with { Managed = false }],
            "not ready managed" => [Worker("w1") with { Ready = false }],
            "launching, node not ready" => [Worker("new1") with { InstanceId = "i-new1", Ready = false }],
            "launching, node ready" => [Worker("new1") with { InstanceId = "i-new1" }],
            _ => Array.Empty<NodeInfo>(),
        };
        var fleet = worker.StartsWith("launch", StringComparison.Ordinal)
            ? Launching(1, startedAt: worker == "launch past join timeout" ? Now - Defaults.NodeJoinTimeout : null)
            : FleetState.Empty;

        var view = new FleetView(Snapshot(nodes), fleet, Defaults, Now);

        Assert.Equal(
            (allReady, readyManaged, towardMinimum, towardMaximum),
            (view.AllReadyWorkers.Count, view.ReadyManagedWorkers.Count, view.WorkersTowardMinimum, view.WorkersTowardMaximum));
        Assert.Equal((readyManaged, towardMaximum), (view.CountFigures(10).ReadyManagedWorkers, view.CountFigures(10).ManagedWorkers));
    }
}

public class FleetViewInventoryTests
{
    private static InstanceInfo Instance(string id) => new() { InstanceId = id, Zone = "us-east-1a", State = "running", LaunchedAt = Now.AddHours(-1) };

    [Fact]
    public void WorkersTowardMaximum_WithInventory_CountsEveryLiveInstanceRecordedOrNot()
    {
        // w1 and w2 are nodes; i-unrecorded runs without a node or a record; w-ghost's instance is gone.
        var nodes = new[] { Worker("w1"), Worker("w2"), Worker("w-ghost") with { Ready = false } };
        var inventory = new Inventory { Instances = [Instance("i-w1"), Instance("i-w2"), Instance("i-unrecorded")], Nodes = [Master(), .. nodes] };

        var view = new FleetView(Snapshot(nodes), FleetState.Empty, Defaults, Now, inventory);

        Assert.Equal(3, view.WorkersTowardMaximum);
    }

    [Fact]
    public void WorkersTowardMaximum_OrphansThisExecutionTerminates_DoNotCount()
    {
        var inventory = new Inventory { Instances = [Instance("i-w1"), Instance("i-orphan")], Nodes = [Master(), Worker("w1")] };
        var plan = new ReconcilePlan { Orphans = [new OrphanInstance { InstanceId = "i-orphan", LaunchedAt = Now.AddHours(-1) }] };

        var view = new FleetView(Snapshot([Worker("w1")]), FleetState.Empty, Defaults, Now, inventory, plan);

        Assert.Equal(1, view.WorkersTowardMaximum);
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 3)] // a stray cordon this execution lifts is capacity again
    public void WorkersTowardMinimum_CordonedWorkers_AreNotCapacity(bool strayLifted, int towardMinimum)
    {
        var nodes = new[] { Worker("w1"), Worker("w2"), Worker("w3") with { Unschedulable = true } };
        var plan = strayLifted ? new ReconcilePlan { StrayCordons = [new StrayCordon { Node = "w3", CordonedBy = "arn:old", At = Now }] } : null;

        var view = new FleetView(Snapshot(nodes), FleetState.Empty, Defaults, Now, null, plan);

        Assert.Equal(towardMinimum, view.WorkersTowardMinimum);
    }

    [Fact]
    public void LaunchingZones_FromEc2ElseTheRegisteredNode_UnknownOtherwise()
    {
        // i-new1 is listed by EC2 in b; i-new2 registered a NotReady node in a; i-new3 is known to neither yet.
        var registered = Worker("new2") with { InstanceId = "i-new2", Ready = false, Zone = "us-east-1a" };
        var inventory = new Inventory { Instances = [Instance("i-new1") with { Zone = "us-east-1b" }], Nodes = [Master(), registered] };
        var snapshot = Snapshot([registered]);

        var withInventory = new FleetView(snapshot, Launching(3), Defaults, Now, inventory);
        var without = new FleetView(snapshot, Launching(3), Defaults, Now);

        Assert.Equal(["us-east-1b", "us-east-1a", null], withInventory.LaunchingZones);
        Assert.Equal([null, "us-east-1a", null], without.LaunchingZones);
    }
}
