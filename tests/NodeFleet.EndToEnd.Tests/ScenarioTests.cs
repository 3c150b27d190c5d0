using System.Text.Json;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>
/// Seed test plan scenarios, run through the real state machine and the real handlers, each
/// followed by the invariants: no instance left without a node past its deadline, no lease held.
/// </summary>
[Collection(LocalCloudGroup.Name)]
public class ScenarioTests(InterruptionCloud cloud)
{
    /// <summary>Kills recorded before this test began (the scenarios share one cluster).</summary>
    private readonly int killedBefore = cloud.Model.KilledEarly.Count;

    private void AssertNoLeaseHeld()
    {
        var item = cloud.StateItem();
        Assert.True(item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("leaseOwner", out _), "a lease is still held");
    }

    [Fact]
    public void MalformedTrigger_FailsClearly_TouchingNothing()
    {
        cloud.Notifications();
        var before = cloud.Instances().Count;

        var warning = Ec2Events.Of(Ec2Events.SpotWarning, "i-0aaa1");
        warning["detail"] = new Dictionary<string, object>();
        var run = cloud.Run(warning);

        Assert.Equal("FAILED", run.GetProperty("status").GetString());
        Assert.Equal(["CollectMetrics", "PrepareFailure", "Notify", "Ended?", "Failed"], Runs.Entered(run));
        var notice = Assert.Single(cloud.Notifications());
        Assert.Contains("InvalidInputException", notice, StringComparison.Ordinal);
        Assert.Contains("$.detail.instance-id", notice, StringComparison.Ordinal);
        Assert.Equal(before, cloud.Instances().Count);
        AssertNoLeaseHeld();

        Invariants.Check(cloud, null, killedBefore);
    }

    [Fact]
    public void PrometheusDown_NoScaling_FailureNotified_NoLease()
    {
        cloud.Notifications();

        var run = cloud.Run(new Dictionary<string, object>(), host: cloud.DeadMetricsHostUrl);

        Assert.Equal("FAILED", run.GetProperty("status").GetString());
        Assert.DoesNotContain("AcquireLock", Runs.Entered(run));
        Assert.Contains("MetricsUnavailableException", Assert.Single(cloud.Notifications()), StringComparison.Ordinal);
        AssertNoLeaseHeld();

        Invariants.Check(cloud, null, killedBefore);
    }

    private static Dictionary<string, object> SpotWarning(string instanceId) => Ec2Events.Of(Ec2Events.SpotWarning, instanceId);

    private static string LaunchIdOf(JsonElement run) => "launch-" + run.GetProperty("executionId").GetString()!.Split(':')[^1];

    [Fact]
    public void SpotInterruption_DrainsAtOnce_ReplacementJoins_InterruptedNodeRetired()
    {
        var spotA = LocalEnvironment.InstanceOf(cloud.AddWorker("w-spot-a"));
        cloud.Model.Add(new TestPod { Namespace = "shop", Name = "api-a", NodeName = "w-spot-a" });
        cloud.Notifications();

        var run = cloud.Run(SpotWarning(spotA));

        Assert.Equal("SUCCEEDED", run.GetProperty("status").GetString());
        var path = Runs.Entered(run);
        Assert.Equal(["CollectMetrics", "Decide", "Act?", "AcquireLock", "Locked?", "Route?", "DrainInterrupted", "Replacement?", "LaunchNodes", "Launched?"], path.Take(10));
        // Once the replacement is Ready, the drain is polled again: the node goes when it is Drained.
        Assert.Equal(["Joined?", "InterruptedDrainContinue", "Retire?"], path.Skip(path.LastIndexOf("Joined?")).Take(3));
        Assert.Equal(["Retire?", "TerminateRemoved", "DeleteNode", "Record", "Notify", "Ended?", "Done"], path.TakeLast(7));
        Assert.Null(cloud.Model.Node("w-spot-a")); // drained, then its Node object deleted
        Assert.Empty(cloud.Model.KilledEarly); // api-a had exited (SIGTERM handled) before its instance went
        var replacement = Assert.Single(cloud.Instances(LaunchIdOf(run)));
        Assert.Equal("running", replacement.State);
        Assert.True(cloud.Model.Read((nodes, _, _) => nodes.Any(n => (n.ProviderId ?? "").EndsWith($"/{replacement.Id}", StringComparison.Ordinal) && n.Ready)));
        AssertNoLeaseHeld();
        Assert.Contains("Replaced w-spot-a with 1 new worker(s)", Assert.Single(cloud.Notifications()), StringComparison.Ordinal);

        Invariants.Check(cloud, ["w-spot-a"], killedBefore);
    }

    [Fact]
    public void SpotInterruption_ReplacementNeverJoins_IsTerminatedAndRecordedAsFailed()
    {
        var spotB = LocalEnvironment.InstanceOf(cloud.AddWorker("w-spot-b"));
        cloud.Notifications();
        cloud.Nodes.Joining = false;
        try
        {
            var run = cloud.Run(SpotWarning(spotB));

            Assert.Equal("SUCCEEDED", run.GetProperty("status").GetString());
            Assert.Contains("CleanUpUnjoined", Runs.Entered(run));
            // Invariant: no instance without a node past its deadline.
            var launched = Assert.Single(cloud.Instances(LaunchIdOf(run)));
            Assert.Contains(launched.State, new[] { "shutting-down", "terminated" });
            AssertNoLeaseHeld();
            Assert.Contains("Launch failed", Assert.Single(cloud.Notifications()), StringComparison.Ordinal);
            var history = cloud.StateItem().GetProperty("history").GetProperty("S").GetString()!;
            Assert.Contains("LaunchFailed", history, StringComparison.Ordinal);
        }
        finally
        {
            cloud.Nodes.Joining = true;
        }

        Invariants.Check(cloud, ["w-spot-b"], killedBefore);
    }

    [Fact]
    public async Task TwoSpotWarningsAtOnce_EachReplacedOrFenced_NothingLeftBehind()
    {
        var nodes = new[] { "w-two-a", "w-two-b" };
        var instances = nodes.Select(n => LocalEnvironment.InstanceOf(cloud.AddWorker(n, TimeSpan.FromHours(1)))).ToList();
        foreach (var node in nodes)
        {
            cloud.Model.Add(new TestPod { Namespace = "shop", Name = "api-" + node, NodeName = node });
        }

        // Both preempt the lease: the later one takes it from the earlier, whose next side effect is fenced.
        var runs = await Task.WhenAll(instances.Select(id => Task.Run(() => cloud.Run(SpotWarning(id)))));

        foreach (var run in runs)
        {
            var replaced = run.GetProperty("status").GetString() == "SUCCEEDED"
                && run.GetProperty("output").GetProperty("recorded").GetProperty("outcome").GetString() == "Replaced";
            var fenced = run.GetProperty("status").GetString() == "FAILED"
                && run.GetProperty("errors").EnumerateArray().Any(e => e.GetProperty("error").GetString() == "LeaseNotHeldException");
            Assert.True(replaced || fenced, run.GetRawText());
        }

        Assert.Contains(runs, run => run.GetProperty("status").GetString() == "SUCCEEDED");
        Invariants.Check(cloud, nodes, killedBefore);
    }
}
