using System.Globalization;
using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>
/// Drains that give pods their grace period, through the real state machine and handlers against
/// the testbed's graceful termination: a scale-down with pods that ignore SIGTERM, and a rebalance
/// recommendation for a node whose pod a budget protects, followed by the real spot warning. Each
/// ends with the invariants: no pod killed before its grace period (unless the spot warning forced
/// it), no budget broken by an eviction, no node left cordoned by NodeFleet without a live drain
/// (a node awaiting its warning is the one marked exception), the master untouched, no lease held.
/// </summary>
[Collection(GracefulCloudGroup.Name)]
public class GracefulDrainTests(GracefulCloud cloud)
{
    private const string Zone = "us-east-1a";

    /// <summary>Managed workers as EC2 instances (tagged as LaunchNodes tags them) that the testbed's kubelets join.</summary>
    private List<string> RunWorkers(int count)
    {
        var tags = $"ResourceType=instance,Tags=[{{Key=nodefleet.io/cluster,Value={LocalEnvironment.Cluster}}},{{Key=nodefleet.io/managed,Value=true}}]";
        return cloud.Aws("ec2", "run-instances", "--image-id", "ami-12c6146b", "--instance-type", "t3.large", "--count", count.ToString(CultureInfo.InvariantCulture),
                "--placement", $"AvailabilityZone={Zone}", "--tag-specifications", tags)
            .GetProperty("Instances").EnumerateArray().Select(i => i.GetProperty("InstanceId").GetString()!).ToList();
    }

    private static string NodeOf(string instanceId) => "ip-" + instanceId[2..];

    private async Task WaitForNodesAsync(IEnumerable<string> instances)
    {
        var names = instances.Select(NodeOf).ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!names.All(n => cloud.Model.Node(n) is { Ready: true }))
        {
            Assert.True(DateTime.UtcNow < deadline, "the workers did not join");
            await Task.Delay(250);
        }
    }

    /// <summary>Kills recorded before this test began (the scenarios share one cluster).</summary>
    private readonly int killedBefore = cloud.Model.KilledEarly.Count;

    private void AssertInvariants(params string[] forcedBySpotWarning)
    {
        var killed = cloud.Model.KilledEarly.Skip(killedBefore).Where(k => !forcedBySpotWarning.Contains(k.Node)).ToList();
        Assert.True(killed.Count == 0, "pods killed before their grace period: " + string.Join("; ", killed));
        cloud.Model.Read((nodes, _, budgets) =>
        {
            // Evictions go through the API, which refuses any that would break a budget; nothing else removed a protected pod.
            foreach (var budget in budgets)
            {
                Assert.True(cloud.Model.DisruptionsAllowed(budget) >= 0);
            }

            var cordoned = nodes.Where(n => CordonMark.FromAnnotations(n.Annotations) is { Reason: not CordonReason.AwaitingInterruption }).Select(n => n.Name).ToList();
            Assert.True(cordoned.Count == 0, "left cordoned by NodeFleet without a live drain: " + string.Join(", ", cordoned));
            var master = Assert.Single(nodes, n => n.Name == "master");
            Assert.False(master.Unschedulable);
            return 0;
        });
        var item = cloud.StateItem();
        Assert.True(item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("leaseOwner", out _), "a lease is still held");
    }

    [Fact]
    public async Task ScaleDown_PodsIgnoringSigterm_GetTheirWholeGracePeriodBeforeTheInstanceGoes()
    {
        if (cloud.Model.Node("master") is null)
        {
            cloud.Model.Add(TestNode.ControlPlane());
        }

        var workers = RunWorkers(3);
        await WaitForNodesAsync(workers);
        // One replica on every worker of a service that ignores SIGTERM: each runs until its 6 s grace period ends.
        var managed = cloud.Model.Read((nodes, _, _) => nodes.Where(n => n.Labels.GetValueOrDefault("nodefleet.io/managed") == "true").Select(n => n.Name).ToList());
        foreach (var worker in managed)
        {
            cloud.Model.Add(new TestPod
            {
                Namespace = "shop", Name = $"slow-{worker[^4..]}", NodeName = worker, OwnerName = "slow", Labels = { ["app"] = "slow" },
                TerminationGracePeriodSeconds = 6, ExitAfter = null, CpuUsageMillis = 10,
            });
        }

        await cloud.WaitForAsync("count(kube_node_info)", () => cloud.Model.Read((nodes, _, _) => nodes.Count), TimeSpan.FromSeconds(60));
        var run = await cloud.TickUntilActionAsync(TimeSpan.FromSeconds(90));

        var state = run.GetProperty("output");
        Assert.Equal("ScaleDown", state.GetProperty("decision").GetProperty("action").GetString());
        Assert.Equal("ScaledDown", state.GetProperty("recorded").GetProperty("outcome").GetString());
        var removed = state.GetProperty("decision").GetProperty("nodeToRemove");
        var node = removed.GetProperty("name").GetString()!;
        var entered = Runs.Entered(run);
        // Every eviction was accepted at once; the drain then polled while the evicted pod terminated.
        Assert.True(entered.Count(s => s == "DrainContinue") >= 3, string.Join(",", entered));
        Assert.True(entered.LastIndexOf("DrainContinue") < entered.IndexOf("TerminateRemoved"));
        Assert.Null(cloud.Model.Node(node));
        Assert.Contains(cloud.Instances(), i => i.Id == removed.GetProperty("instanceId").GetString() && i.State is "shutting-down" or "terminated");
        // Its replacement pod was created while it terminated, and runs elsewhere now.
        var pod = $"slow-{node[^4..]}";
        Assert.True(cloud.Model.Read((_, pods, _) => pods.Any(p => p.Name == pod + "-r" && p.NodeName != node)));
        AssertInvariants();
        Invariants.Check(cloud, null, killedBefore);
    }

    [Fact]
    public async Task Rebalance_NodeWithABudgetProtectedPod_ReplacementFirst_NodeKeptUntilTheSpotWarning_WhichRetiresIt()
    {
        if (cloud.Model.Node("master") is null)
        {
            cloud.Model.Add(TestNode.ControlPlane());
        }

        var instance = Assert.Single(RunWorkers(1));
        await WaitForNodesAsync([instance]);
        var node = NodeOf(instance);
        cloud.Model.Add(new TestPod { Namespace = "data", Name = "db-0", NodeName = node, OwnerKind = "StatefulSet", OwnerName = "db", Labels = { ["app"] = "db" } });
        cloud.Model.Add(new TestPod { Namespace = "shop", Name = "web-0", NodeName = node, OwnerName = "web", TerminationGracePeriodSeconds = 3, ExitAfter = null });
        cloud.Model.Add(new TestBudget { Namespace = "data", Name = "db", MatchLabels = new() { ["app"] = "db" }, MaxUnavailable = 0 });
        var before = cloud.Instances().Where(i => i.State == "running").Select(i => i.Id).ToHashSet();
        cloud.Notifications();

        var rebalance = cloud.Run(Ec2Events.Of(Ec2Events.Rebalance, instance, DateTimeOffset.UtcNow));

        Assert.Equal("SUCCEEDED", rebalance.GetProperty("status").GetString());
        var state = rebalance.GetProperty("output");
        Assert.Equal("AwaitingInterruption", state.GetProperty("recorded").GetProperty("outcome").GetString());
        Assert.Equal("AwaitingInterruption", state.GetProperty("drain").GetProperty("status").GetString());
        Assert.DoesNotContain("TerminateRemoved", Runs.Entered(rebalance));
        Assert.DoesNotContain("AbortDrain", Runs.Entered(rebalance));
        // The replacement is Ready; the node stays, cordoned and marked, its protected pod still on it.
        var replacement = Assert.Single(cloud.Instances(), i => i.State == "running" && !before.Contains(i.Id));
        Assert.True(cloud.Model.Node(NodeOf(replacement.Id)) is { Ready: true });
        Assert.Contains(cloud.Instances(), i => i.Id == instance && i.State == "running");
        var kept = cloud.Model.Node(node)!;
        Assert.True(kept.Unschedulable);
        Assert.Equal(CordonReason.AwaitingInterruption, CordonMark.FromAnnotations(kept.Annotations)!.Reason);
        Assert.True(cloud.Model.Read((_, pods, _) => pods.Any(p => p.Name == "db-0" && p.NodeName == node && p.DeletionRequestedAt is null)));
        Assert.Contains("Kept " + node + " cordoned until the spot warning", Assert.Single(cloud.Notifications()), StringComparison.Ordinal);
        AssertInvariants();

        // The real warning, delivered with 5 s of its two minutes left: drain what may go, wait at most until
        // EC2 takes the instance, terminate it, and launch no second replacement.
        var spot = cloud.Run(Ec2Events.Of(Ec2Events.SpotWarning, instance, DateTimeOffset.UtcNow - InterruptionNotice.SpotWarning + TimeSpan.FromSeconds(5)));

        Assert.Equal("SUCCEEDED", spot.GetProperty("status").GetString());
        var retired = spot.GetProperty("output");
        Assert.Equal("Retire", retired.GetProperty("decision").GetProperty("route").GetString());
        Assert.Equal("Replaced", retired.GetProperty("recorded").GetProperty("outcome").GetString());
        Assert.DoesNotContain("LaunchNodes", Runs.Entered(spot));
        Assert.Contains("WaitForInterruptedDrain", Runs.Entered(spot));
        Assert.Null(cloud.Model.Node(node));
        Assert.Contains(cloud.Instances(), i => i.Id == instance && i.State is "shutting-down" or "terminated");
        Assert.Equal(before.Count, cloud.Instances().Count(i => i.State == "running")); // one retired, one replacement, no second one
        // Only the pod the budget held was lost with the instance, which the warning forced.
        var lost = Assert.Single(cloud.Model.KilledEarly.Skip(killedBefore), k => k.Node == node);
        Assert.Equal("db-0", lost.Name);
        AssertInvariants(forcedBySpotWarning: node);
        Invariants.Check(cloud, [node], killedBefore);
    }

    [Fact]
    public async Task SpotWarning_DuringABudgetHeldScaleDownDrain_IsHandledAsAnInterruption_ReplacementLaunched()
    {
        if (cloud.Model.Node("master") is null)
        {
            cloud.Model.Add(TestNode.ControlPlane());
        }

        await WaitForNodesAsync(RunWorkers(3));
        // One database replica per worker; the budget keeps all but one healthy, and once the scale-down
        // has cordoned its node another replica stops being Ready: the drain is held from then on.
        var workers = cloud.Model.Read((nodes, _, _) => nodes.Where(n => n.Labels.GetValueOrDefault("nodefleet.io/managed") == "true" && n.Ready).Select(n => n.Name).ToList());
        foreach (var worker in workers)
        {
            cloud.Model.Add(new TestPod { Namespace = "held", Name = $"db-{worker[^4..]}", NodeName = worker, OwnerKind = "StatefulSet", OwnerName = "db", Labels = { ["app"] = "held" }, CpuUsageMillis = 10 });
        }

        cloud.Model.Add(new TestBudget { Namespace = "held", Name = "held", MatchLabels = new() { ["app"] = "held" }, MinAvailable = workers.Count - 1 });
        var once = 0;
        cloud.Model.Cordoned = cordoned =>
        {
            if (Interlocked.Exchange(ref once, 1) == 0)
            {
                cloud.Model.Read((_, pods, _) => pods.First(p => p.Labels.GetValueOrDefault("app") == "held" && p.NodeName != cordoned.Name).Phase = "Pending");
            }
        };
        string[] forced = [];
        try
        {
            await cloud.WaitForAsync("count(kube_node_info)", () => cloud.Model.Read((nodes, _, _) => nodes.Count), TimeSpan.FromSeconds(60));
            var scaleDown = Task.Run(async () =>
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(2));
                    // The acting tick is the scale-down; how it ends once preempted is the lease's business, not asserted here.
                    var tick = cloud.Run(new Dictionary<string, object>());
                    if (tick.GetProperty("status").GetString() != "SUCCEEDED"
                        || tick.GetProperty("output").GetProperty("decision").GetProperty("action").GetString() != "None")
                    {
                        return tick;
                    }
                }
            });

            // The scale-down has cordoned its node and is held by the budget.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            string? held = null;
            while (held is null)
            {
                Assert.True(DateTime.UtcNow < deadline && !scaleDown.IsCompleted, "no scale-down drain started");
                held = cloud.Model.Read((nodes, _, _) => nodes.FirstOrDefault(n => CordonMark.FromAnnotations(n.Annotations)?.Reason == CordonReason.ScaleDown)?.Name);
                await Task.Delay(250);
            }

            var instance = cloud.Model.Node(held)!.ProviderId!.Split('/')[^1];
            var runningBefore = cloud.Instances().Count(i => i.State == "running");
            var spot = cloud.Run(Ec2Events.Of(Ec2Events.SpotWarning, instance, DateTimeOffset.UtcNow - InterruptionNotice.SpotWarning + TimeSpan.FromSeconds(8)));
            await scaleDown;

            Assert.Equal("SUCCEEDED", spot.GetProperty("status").GetString());
            var state = spot.GetProperty("output");
            Assert.Equal("Replace", state.GetProperty("decision").GetProperty("route").GetString());
            Assert.Equal("Replaced", state.GetProperty("recorded").GetProperty("outcome").GetString());
            Assert.Null(cloud.Model.Node(held));
            Assert.Contains(cloud.Instances(), i => i.Id == instance && i.State is "shutting-down" or "terminated");
            // The fleet did not drop with the node: its replacement runs.
            Assert.Equal(runningBefore, cloud.Instances().Count(i => i.State == "running"));
            // Only the replica the budget held on the node was lost with it, as the warning forced.
            Assert.All(cloud.Model.KilledEarly.Skip(killedBefore).Where(k => k.Node == held), k => Assert.StartsWith("db-", k.Name, StringComparison.Ordinal));
            AssertInvariants(forcedBySpotWarning: held);
            forced = [held];
        }
        finally
        {
            // Leave the cluster to the other scenarios as it was: no hook, no budget, no replicas.
            cloud.Model.Cordoned = null;
            cloud.Model.RemoveBudget("held", "held");
            foreach (var pod in cloud.Model.Read((_, pods, _) => pods.Where(p => p.Namespace == "held").Select(p => p.Name).ToList()))
            {
                cloud.Model.RemovePod("held", pod);
            }
        }

        Invariants.Check(cloud, forced, killedBefore);
    }
}
