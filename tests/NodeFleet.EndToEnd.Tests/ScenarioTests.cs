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

        var run = cloud.Run(new Dictionary<string, object> { ["detail-type"] = "EC2 Spot Instance Interruption Warning", ["detail"] = new Dictionary<string, object>() });

        Assert.Equal("FAILED", run.GetProperty("status").GetString());
        Assert.Equal(["CollectMetrics", "PrepareFailure", "Notify", "Ended?", "Failed"], Runs.Entered(run));
        var notice = Assert.Single(cloud.Notifications());
        Assert.Contains("InvalidInputException", notice, StringComparison.Ordinal);
        Assert.Contains("$.detail.instance-id", notice, StringComparison.Ordinal);
        Assert.Equal(before, cloud.Instances().Count);
        AssertNoLeaseHeld();
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
    }

    private static Dictionary<string, object> SpotWarning(string instanceId) => new()
    {
        ["detail-type"] = "EC2 Spot Instance Interruption Warning",
        ["source"] = "aws.ec2",
        ["detail"] = new Dictionary<string, object> { ["instance-id"] = instanceId, ["instance-action"] = "terminate" },
    };

    private static string LaunchIdOf(JsonElement run) => "launch-" + run.GetProperty("executionId").GetString()!.Split(':')[^1];

    [Fact]
    public void SpotInterruption_DrainsAtOnce_ReplacementJoins_InterruptedNodeRetired()
    {
        cloud.Model.Add(new TestNode { Name = "w-spot-a", ProviderId = "aws:///us-east-1a/i-0spota000000000001", Labels = { ["nodefleet.io/managed"] = "true" } });
        cloud.Model.Add(new TestPod { Namespace = "shop", Name = "api-a", NodeName = "w-spot-a" });
        cloud.Notifications();

        var run = cloud.Run(SpotWarning("i-0spota000000000001"));

        Assert.Equal("SUCCEEDED", run.GetProperty("status").GetString());
        var path = Runs.Entered(run);
        Assert.Equal(["CollectMetrics", "Decide", "Act?", "AcquireLock", "Locked?", "DrainInterrupted", "Replacement?", "LaunchNodes", "Launched?"], path.Take(9));
        Assert.Equal(["Joined?", "TerminateRemoved", "DeleteNode", "Record", "Notify", "Ended?", "Done"], path.TakeLast(7));
        Assert.Null(cloud.Model.Node("w-spot-a")); // drained, then its Node object deleted
        var replacement = Assert.Single(cloud.Instances(LaunchIdOf(run)));
        Assert.Equal("running", replacement.State);
        Assert.True(cloud.Model.Read((nodes, _, _) => nodes.Any(n => (n.ProviderId ?? "").EndsWith($"/{replacement.Id}", StringComparison.Ordinal) && n.Ready)));
        AssertNoLeaseHeld();
        Assert.Contains("Replaced w-spot-a with 1 new worker(s)", Assert.Single(cloud.Notifications()), StringComparison.Ordinal);
    }

    [Fact]
    public void SpotInterruption_ReplacementNeverJoins_IsTerminatedAndRecordedAsFailed()
    {
        cloud.Model.Add(new TestNode { Name = "w-spot-b", ProviderId = "aws:///us-east-1a/i-0spotb000000000001", Labels = { ["nodefleet.io/managed"] = "true" } });
        cloud.Notifications();
        cloud.Nodes.Joining = false;
        try
        {
            var run = cloud.Run(SpotWarning("i-0spotb000000000001"));

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
    }
}
