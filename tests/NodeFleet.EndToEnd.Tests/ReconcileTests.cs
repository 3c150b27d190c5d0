using NodeFleet.Cluster.Prometheus;
using NodeFleet.Core.Settings;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>
/// Faults in the middle of a step, and nodes that fail: whatever an execution leaves behind, the
/// next tick's reconcile puts right, and every scenario ends with the invariants. One cloud per scenario.
/// </summary>
public abstract class ReconcileScenario(LocalCloud cloud)
{
    protected LocalCloud Cloud { get; } = cloud;

    protected static Dictionary<string, object> Tick() => [];

    protected static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(250);
        }
    }

    /// <summary>Time passes for the lease a failed execution could not release: it expires, as it would after leaseDuration.</summary>
    protected void ExpireLease()
    {
        var key = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["pk"] = new Dictionary<string, string> { ["S"] = $"cluster#{LocalEnvironment.Cluster}" } });
        var values = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            [":e"] = new Dictionary<string, string> { ["N"] = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });
        Cloud.Aws("dynamodb", "update-item", "--table-name", Cloud.Table, "--key", key, "--update-expression", "SET leaseExpiresAt = :e", "--condition-expression", "attribute_exists(leaseOwner)", "--expression-attribute-values", values);
    }

    /// <summary>The tick after a failure counted every live instance from EC2, recorded or not, and launched none.</summary>
    protected void AssertCountsEveryInstanceAndLaunchesNothing(System.Text.Json.JsonElement next)
    {
        Assert.True(next.GetProperty("status").GetString() == "SUCCEEDED", next.GetRawText());
        Assert.Equal(LiveInstances().Count, next.GetProperty("output").GetProperty("decision").GetProperty("figures").GetProperty("managedWorkers").GetInt32());
        Assert.DoesNotContain("LaunchNodes", Runs.Entered(next));
    }

    /// <summary>The master and workers that have been Ready for an hour, each running one pod that <paramref name="pod"/> makes.</summary>
    protected void Cluster(IEnumerable<string> workers, Func<string, TestPod> pod)
    {
        Cloud.Model.Add(TestNode.ControlPlane());
        foreach (var w in workers)
        {
            Cloud.AddWorker(w, TimeSpan.FromHours(1));
            Cloud.Model.Add(pod(w));
        }
    }

    /// <summary>
    /// Waits until Prometheus has the worker CPU CollectMetrics requires once workers are established. The
    /// testbed's workers are born an hour old but their series start now, so a tick before the second
    /// scrape fails with MetricsUnavailable; a real worker that old has an hour of series.
    /// </summary>
    protected Task WorkerCpuScrapedAsync()
    {
        var rate = SettingValue.Duration(Cloud.StepEnvironment["NODEFLEET_CPU_RATE_WINDOW"]);
        var window = SettingValue.Duration(Cloud.StepEnvironment["NODEFLEET_SCALE_UP_CPU_WINDOW"]);
        return Cloud.WaitUntilAsync(PromQl.MinOver(PromQl.WorkerCpu(rate), window), _ => true, () => "with a value", TimeSpan.FromSeconds(60));
    }

    protected List<string> LiveInstances() => Cloud.Instances().Where(i => i.State is "pending" or "running").Select(i => i.Id).ToList();
}

[Collection(OrphanCloudGroup.Name)]
public class OrphanTests(OrphanCloud cloud) : ReconcileScenario(cloud)
{
    [Fact]
    public async Task NeverReadyInstances_CleanUpFails_NextTickTerminatesOrphansAndDeletesTheirNodes()
    {
        // Only the master: the first tick launches the minimum (2).
        Cloud.Model.Add(TestNode.ControlPlane());
        await Cloud.WaitForAsync("count(kube_node_info)", 1, TimeSpan.FromSeconds(60));
        var before = LiveInstances();

        // New instances register a node that never becomes Ready, and EC2 refuses every termination.
        Cloud.Nodes.RegisterNeverReady = true;
        Cloud.Proxy.Rule = form => form.GetValueOrDefault("Action") == "TerminateInstances" ? new Fault(503, FaultProxy.Ec2Error("Unavailable", "The service is unavailable.")) : null;
        var failed = Cloud.Run(Tick());
        Cloud.Proxy.Rule = _ => null;

        Assert.Equal("FAILED", failed.GetProperty("status").GetString());
        Assert.Contains("CleanUpUnjoined", Runs.Entered(failed));
        var orphans = LiveInstances().Except(before).ToList();
        Assert.NotEmpty(orphans); // the failure left them running, and their NotReady nodes registered

        // The next tick terminates them and deletes their Node objects, whatever was recorded.
        Cloud.Nodes.RegisterNeverReady = false;
        var reconciled = Cloud.Run(Tick());

        Assert.True(reconciled.GetProperty("status").GetString() == "SUCCEEDED", reconciled.GetRawText());
        Assert.Contains("Reconcile", Runs.Entered(reconciled));
        var plan = reconciled.GetProperty("output").GetProperty("decision").GetProperty("reconcile");
        Assert.Equal(orphans.Order(StringComparer.Ordinal), plan.GetProperty("orphans").EnumerateArray().Select(o => o.GetProperty("instanceId").GetString()!).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(Cloud.Instances(), i => orphans.Contains(i.Id) && i.State is "pending" or "running");
        Assert.DoesNotContain(Cloud.Model.Read((nodes, _, _) => nodes.Select(n => n.ProviderId ?? "").ToList()), p => orphans.Any(o => p.EndsWith("/" + o, StringComparison.Ordinal)));
        // The same tick also relaunches the minimum; its notification says what the reconcile did.
        Assert.Contains(Cloud.Notifications(), n => n.Contains("reconcile: terminate 2 instance(s) not a Ready node after the join timeout", StringComparison.Ordinal));

        Invariants.Check(Cloud);
    }
}

[Collection(RepairCloudGroup.Name)]
public class RepairTests(RepairCloud cloud) : ReconcileScenario(cloud)
{
    [Fact]
    public async Task ReadyWorkerTurnsNotReady_IsReplaced_HalfTheWorkersNotReady_RepairsHeldAndNotified()
    {
        Cloud.Model.Add(TestNode.ControlPlane());
        // Workers that have been Ready for an hour.
        var workers = new[] { "h1", "h2", "h3", "h4", "h5" }.Select(w => Cloud.AddWorker(w, TimeSpan.FromHours(1))).ToList();
        await Cloud.WaitForAsync("count(kube_node_info)", 6, TimeSpan.FromSeconds(60));

        // 1. One worker of five goes NotReady (its kubelet died; the instance runs on): past repairAfter it is replaced.
        Cloud.Model.SetReady("h1", false);
        await Task.Delay(TimeSpan.FromSeconds(6));
        Cloud.Notifications();
        var repaired = Cloud.Run(Tick());

        Assert.True(repaired.GetProperty("status").GetString() == "SUCCEEDED", repaired.GetRawText());
        var decision = repaired.GetProperty("output").GetProperty("decision");
        Assert.Equal("Unhealthy", decision.GetProperty("reasonCode").GetString());
        Assert.Equal("h1", decision.GetProperty("nodeToRemove").GetProperty("name").GetString());
        Assert.Equal("Replaced", repaired.GetProperty("output").GetProperty("recorded").GetProperty("outcome").GetString());
        Assert.Null(Cloud.Model.Node("h1"));
        Assert.Contains(Cloud.Instances(), i => i.Id == LocalEnvironment.InstanceOf(workers[0]) && i.State is "shutting-down" or "terminated");
        Assert.Contains(Cloud.Notifications(), n => n.Contains("has been NotReady for", StringComparison.Ordinal));

        // 2. Now three of the five workers go NotReady at once: a cluster-wide fault, not broken nodes.
        foreach (var name in new[] { "h2", "h3", "h4" })
        {
            Cloud.Model.SetReady(name, false);
        }

        await Task.Delay(TimeSpan.FromSeconds(6));
        var live = LiveInstances();
        var held = Cloud.Run(Tick());

        Assert.True(held.GetProperty("status").GetString() == "SUCCEEDED", held.GetRawText());
        Assert.Equal("RepairsHeld", held.GetProperty("output").GetProperty("decision").GetProperty("reasonCode").GetString());
        Assert.Equal("RepairsHeld", held.GetProperty("output").GetProperty("recorded").GetProperty("outcome").GetString());
        Assert.Equal(live, LiveInstances()); // nothing terminated, nothing launched
        Assert.Contains(Cloud.Notifications(), n => n.Contains("Repairs and scaling held", StringComparison.Ordinal));

        // Told once: the next tick holds quietly.
        var quiet = Cloud.Run(Tick());
        Assert.Equal("Done", Runs.Entered(quiet)[^1]);
        Assert.DoesNotContain(Cloud.Notifications(), n => n.Contains("Repairs and scaling held", StringComparison.Ordinal));

        // The fault clears: the workers come back.
        foreach (var name in new[] { "h2", "h3", "h4" })
        {
            Cloud.Model.SetReady(name, true);
        }

        Invariants.Check(Cloud);
    }
}

[Collection(ApiFaultCloudGroup.Name)]
public class ApiFaultTests(ApiFaultCloud cloud) : ReconcileScenario(cloud)
{
    [Fact]
    public async Task KubernetesApiDownDuringTheReadinessLoop_LaunchFails_NextTickCountsTheInstancesAndLaunchesNoMore()
    {
        // Only the master: the first tick launches the minimum (2).
        Cloud.Model.Add(TestNode.ControlPlane());
        await Cloud.WaitForAsync("count(kube_node_info)", 1, TimeSpan.FromSeconds(60));
        var before = LiveInstances();

        // Once the instances are launched, every node read answers 503 for longer than CheckNodesReady's retries last.
        var launched = false;
        Cloud.Proxy.Rule = form =>
        {
            launched |= form.GetValueOrDefault("Action") == "CreateFleet";
            return null;
        };
        Cloud.Kube.Faults = request => Volatile.Read(ref launched) && request.Path.StartsWith("/api/v1/nodes", StringComparison.Ordinal)
            ? new ApiFault(503, "ServiceUnavailable", "etcdserver: leader changed")
            : null;
        var failed = Cloud.Run(Tick());
        Cloud.Kube.Faults = null;
        Cloud.Proxy.Rule = _ => null;

        Assert.Equal("FAILED", failed.GetProperty("status").GetString());
        Assert.Contains(failed.GetProperty("errors").EnumerateArray(), e => e.GetProperty("state").GetString() == "CheckNodesReady" && e.GetProperty("error").GetString() == "ClusterUnavailableException");
        var added = LiveInstances().Except(before).ToList();
        Assert.Equal(2, added.Count);

        // The failed execution forgot its launch; EC2 did not: the next tick counts every instance and launches nothing more.
        await UntilAsync(() => Cloud.Model.Read((nodes, _, _) => nodes.Count(n => n.Ready) == 3), TimeSpan.FromSeconds(30), "the new nodes join");
        await Cloud.WaitForAsync("count(kube_node_info)", 3, TimeSpan.FromSeconds(30));
        var next = Cloud.Run(Tick());

        AssertCountsEveryInstanceAndLaunchesNothing(next);

        Invariants.Check(Cloud);
    }
}

[Collection(DynamoFaultCloudGroup.Name)]
public class DynamoFaultTests(DynamoFaultCloud cloud) : ReconcileScenario(cloud)
{
    [Fact]
    public async Task DynamoDbDownAfterCreateFleet_LaunchUnrecorded_NextTickCountsItFromEc2()
    {
        // Three workers (one above the minimum) and two pods that fit nowhere.
        Cluster(["d1", "d2", "d3"], w => new TestPod { Namespace = "shop", Name = $"fill-{w}", NodeName = w, OwnerName = "fill", CpuMillis = 1800 });

        Cloud.Model.Add(new TestPod { Namespace = "shop", Name = "big-0", OwnerName = "big", Phase = "Pending", CpuMillis = 1500 });
        Cloud.Model.Schedule();
        await Cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", 1, TimeSpan.FromSeconds(60));
        await WorkerCpuScrapedAsync();
        var before = LiveInstances();

        // Once CreateFleet has gone through, DynamoDB answers 500 to everything.
        var launched = false;
        Cloud.Proxy.Rule = form =>
        {
            launched |= form.GetValueOrDefault("Action") == "CreateFleet";
            return Volatile.Read(ref launched) && form.GetValueOrDefault("Action") is "GetItem" or "UpdateItem"
                ? new Fault(500, FaultProxy.JsonError("com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"))
                : null;
        };
        var failed = Cloud.Run(Tick());
        Cloud.Proxy.Rule = _ => null;

        Assert.Equal("FAILED", failed.GetProperty("status").GetString());
        var added = LiveInstances().Except(before).ToList();
        Assert.Single(added); // launched once: the retried LaunchNodes found it by its launch id

        // The dead execution's lease expires; the instance joined meanwhile, unrecorded: the next tick counts it and launches nothing.
        await UntilAsync(() => Cloud.Model.Read((_, pods, _) => pods.All(p => p.NodeName is not null)), TimeSpan.FromSeconds(30), "the pending pod is placed on the new node");
        await Cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", 0, TimeSpan.FromSeconds(30));
        ExpireLease();
        var next = Cloud.Run(Tick());

        AssertCountsEveryInstanceAndLaunchesNothing(next);
        Assert.Equal(before.Count + 1, LiveInstances().Count);

        Invariants.Check(Cloud);
    }
}

[Collection(DrainFaultCloudGroup.Name)]
public class DrainFaultTests(DrainFaultCloud cloud) : ReconcileScenario(cloud)
{
    [Fact]
    public async Task DrainApiFailsMidWay_NodeLeftCordoned_NextTickUncordonsIt()
    {
        // Three idle workers, one above the minimum: once CPU stays low for the window, one goes.
        Cluster(["c1", "c2", "c3"], w => new TestPod { Namespace = "shop", Name = $"web-{w}", NodeName = w, OwnerName = "web", CpuUsageMillis = 20 });

        await Cloud.WaitForAsync("count(kube_node_info)", 4, TimeSpan.FromSeconds(60));
        await WorkerCpuScrapedAsync();

        // The cordon goes through; from then on the API answers 503 to everything (evictions, the abort's uncordon).
        var cordoned = false;
        Cloud.Kube.Faults = request =>
        {
            if (Volatile.Read(ref cordoned))
            {
                return new ApiFault(503, "ServiceUnavailable", "the API server is shutting down");
            }

            cordoned = request.Method == "PATCH" && request.Path.StartsWith("/api/v1/nodes/", StringComparison.Ordinal);
            return null;
        };
        // Ticks wait for the scale-down window; the one that cordons is the scale-down.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var failed = Cloud.Run(Tick());
        while (!Volatile.Read(ref cordoned))
        {
            Assert.True(DateTime.UtcNow < deadline, "no tick cordoned a node within 90 s; the last: " + failed.GetRawText());
            await Task.Delay(TimeSpan.FromSeconds(2));
            failed = Cloud.Run(Tick());
        }

        Cloud.Kube.Faults = null;

        Assert.Equal("FAILED", failed.GetProperty("status").GetString());
        Assert.Contains(failed.GetProperty("errors").EnumerateArray(), e => e.GetProperty("state").GetString() == "AbortDrain");
        // Left cordoned, with the failed execution's mark.
        var (name, mark) = Assert.Single(Cloud.Model.Read((nodes, _, _) => nodes.Where(n => n.Unschedulable).Select(n => (n.Name, NodeFleet.Core.Contracts.CordonMark.FromAnnotations(n.Annotations))).ToList()));
        Assert.Equal(NodeFleet.Core.Contracts.CordonReason.ScaleDown, mark?.Reason);

        // The next tick finds the cordon no live drain holds and lifts it.
        var next = Cloud.Run(Tick());

        Assert.True(next.GetProperty("status").GetString() == "SUCCEEDED", next.GetRawText());
        Assert.Contains(name, next.GetProperty("output").GetProperty("reconciled").GetProperty("uncordoned").EnumerateArray().Select(n => n.GetString()));
        Assert.False(Cloud.Model.Node(name)?.Unschedulable ?? false);

        Invariants.Check(Cloud);
    }
}
