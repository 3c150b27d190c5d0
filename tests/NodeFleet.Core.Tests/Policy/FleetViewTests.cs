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
