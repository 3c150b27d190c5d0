using System.Text.Json;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>
/// Seed test plan scenarios, run through the real state machine and the real handlers, each
/// followed by the invariants: no instance left without a node past its deadline, no lease held.
/// </summary>
[Collection(LocalCloudGroup.Name)]
public class ScenarioTests(LocalCloud cloud)
{
    private static List<string> Path(JsonElement run) => run.GetProperty("entered").EnumerateArray().Select(s => s.GetString()!).ToList();

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
        Assert.Equal(["CollectMetrics", "PrepareFailure", "NotifyFailure", "Failed"], Path(run));
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

        var run = cloud.Run(new Dictionary<string, object>());

        Assert.Equal("FAILED", run.GetProperty("status").GetString());
        Assert.DoesNotContain("AcquireLock", Path(run));
        Assert.Contains("MetricsUnavailableException", Assert.Single(cloud.Notifications()), StringComparison.Ordinal);
        AssertNoLeaseHeld();
    }

    [Fact]
    public void SpotInterruption_DrainsAtOnce_LaunchesAReplacement_CleansItUpWhenItNeverJoins()
    {
        cloud.Model.Add(new TestNode { Name = "w-spot", ProviderId = "aws:///us-east-1a/i-0spot0000000000001", Labels = { ["nodefleet.io/managed"] = "true" } });
        cloud.Model.Add(new TestNode { Name = "w-other", ProviderId = "aws:///us-east-1a/i-0other000000000001", Labels = { ["nodefleet.io/managed"] = "true" } });
        cloud.Model.Add(new TestPod { Namespace = "shop", Name = "api-1", NodeName = "w-spot" });
        cloud.Notifications();

        var run = cloud.Run(new Dictionary<string, object>
        {
            ["detail-type"] = "EC2 Spot Instance Interruption Warning",
            ["source"] = "aws.ec2",
            ["detail"] = new Dictionary<string, object> { ["instance-id"] = "i-0spot0000000000001", ["instance-action"] = "terminate" },
        });

        Assert.Equal("SUCCEEDED", run.GetProperty("status").GetString());
        var path = Path(run);
        Assert.Equal(["CollectMetrics", "Decide", "Act?", "AcquireLock", "Locked?", "DrainInterrupted", "NeedsReplacement?", "LaunchNodes", "Launched?"], path.Take(9));
        Assert.Contains("CleanUpUnjoined", path); // the testbed never turns the instance into a node
        Assert.True(cloud.Model.Node("w-spot")!.Unschedulable);
        Assert.Empty(cloud.Model.Read((_, pods, _) => pods.Where(p => p.NodeName == "w-spot").ToList()));
        // Invariant: no instance without a node past its deadline.
        Assert.All(cloud.Instances(), i => Assert.Contains(i.State, new[] { "shutting-down", "terminated" }));
        Assert.Single(cloud.Instances());
        AssertNoLeaseHeld();
        Assert.Contains("Launch failed", Assert.Single(cloud.Notifications()), StringComparison.Ordinal);
    }
}
