using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>A scale-down whose drain a PodDisruptionBudget blocks once it has started.</summary>
[Collection(DrainCloudGroup.Name)]
public class DrainTests(DrainCloud cloud)
{
    [Fact]
    public async Task DrainBlockedByBudget_TimesOut_NodeUncordoned_AbortRecorded()
    {
        BudgetHeldDrain.Arrange(cloud);

        // A fresh Prometheus has not scraped yet: a tick before that fails on missing data, rightly.
        await cloud.WaitForAsync("count(kube_node_info)", 4, TimeSpan.FromSeconds(60));
        // Ticks are no-ops until CPU has stayed low for the scale-down window.
        var run = await cloud.TickUntilActionAsync(TimeSpan.FromSeconds(60));

        var state = run.GetProperty("output");
        Assert.Equal("ScaleDown", state.GetProperty("decision").GetProperty("action").GetString());
        Assert.Equal(["DrainStart", "Drained?", "WaitForDrain", "DrainContinue", "Drained?"], Runs.Entered(run).SkipWhile(s => s != "DrainStart").Take(5));
        Assert.Equal(["AbortDrain", "Record", "Notify", "Ended?", "Done"], Runs.Entered(run).TakeLast(5));
        Assert.DoesNotContain("TerminateRemoved", Runs.Entered(run));
        Assert.Equal("ScaleDownAborted", state.GetProperty("recorded").GetProperty("outcome").GetString());
        var name = state.GetProperty("decision").GetProperty("nodeToRemove").GetProperty("name").GetString()!;
        // The node is back in service, no replica was evicted (each is still on its own worker),
        // and no instance was terminated.
        Assert.False(cloud.Model.Node(name)!.Unschedulable);
        Assert.Equal(["db-w1@w1", "db-w2@w2", "db-w3@w3"], cloud.Model.Read((_, pods, _) => pods.Select(p => $"{p.Name}@{p.NodeName}").Order(StringComparer.Ordinal).ToList()));
        Assert.Equal("Overdue", state.GetProperty("drain").GetProperty("status").GetString());
        Assert.DoesNotContain(cloud.Instances(), i => i.State is "shutting-down" or "terminated");
        var history = cloud.StateItem().GetProperty("history").GetRawText();
        Assert.Contains("ScaleDownAborted", history, StringComparison.Ordinal);
        Assert.False(cloud.StateItem().TryGetProperty("leaseOwner", out _));
        var notice = Assert.Single(cloud.Notifications(), n => n.Contains($"Scale-down of {name} aborted", StringComparison.Ordinal));
        Assert.Contains($"the drain of {name} ended Overdue", notice, StringComparison.Ordinal);
        Assert.Contains("The disruption budget db needs 2 healthy pods", notice, StringComparison.Ordinal);

        Invariants.Check(cloud);
    }
}

/// <summary>
/// Three idle workers, one database replica each, and a budget that keeps two of three healthy:
/// any one worker may be drained when Decide looks, but once the drain has cordoned its node a
/// replica on another worker stops being Ready, and from then on the budget allows no eviction.
/// </summary>
internal static class BudgetHeldDrain
{
    public static void Arrange(LocalCloud cloud)
    {
        cloud.Model.Add(TestNode.ControlPlane());
        foreach (var worker in new[] { "w1", "w2", "w3" })
        {
            cloud.AddWorker(worker);
            cloud.Model.Add(new TestPod { Namespace = "data", Name = $"db-{worker}", NodeName = worker, OwnerKind = "StatefulSet", OwnerName = "db", Labels = { ["app"] = "db" }, CpuUsageMillis = 20 });
        }

        cloud.Model.Add(new TestBudget { Namespace = "data", Name = "db", MatchLabels = new() { ["app"] = "db" }, MinAvailable = 2 });
        cloud.Model.Cordoned = cordoned => cloud.Model.Read((_, pods, _) =>
        {
            pods.First(p => p.Labels.GetValueOrDefault("app") == "db" && p.NodeName != cordoned.Name).Phase = "Pending";
            return 0;
        });
    }
}
