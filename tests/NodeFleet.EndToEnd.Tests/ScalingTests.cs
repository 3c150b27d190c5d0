using System.Text.Json;
using NodeFleet.Cluster.Prometheus;
using NodeFleet.Testbed;
using Xunit.Abstractions;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>Scaling driven by what Prometheus scrapes from the emulated cluster.</summary>
[Collection(ScalingCloudGroup.Name)]
public class ScalingTests(ScalingCloud cloud, ITestOutputHelper output)
{
    [Fact]
    public async Task PendingPods_LaunchTheRightNumberInOneExecution_ThenABalancedTickIsANoOp()
    {
        cloud.Model.Add(TestNode.ControlPlane());
        cloud.AddWorker("w1");
        cloud.AddWorker("w2");
        // Six 1.5-core pods: one fits per 2-core worker, so two run and four wait for four new nodes.
        for (var i = 0; i < 6; i++)
        {
            cloud.Model.Add(new TestPod { Namespace = "shop", Name = $"web-{i}", Phase = "Pending", OwnerName = "web-7c9", CpuMillis = 1500, MemoryBytes = 256L << 20, CpuUsageMillis = 1000 });
        }

        cloud.Model.Schedule();
        var unschedulableAt = DateTimeOffset.UtcNow;
        await cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", 4, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(9)); // let the CPU rate window fill

        var run = cloud.Run(new Dictionary<string, object>());

        Assert.True(run.GetProperty("status").GetString() == "SUCCEEDED", run.GetRawText());
        var state = run.GetProperty("output");
        Assert.Equal("PendingPods", state.GetProperty("decision").GetProperty("reasonCode").GetString());
        Assert.Equal(4, state.GetProperty("decision").GetProperty("nodesToAdd").GetInt32());
        Assert.Equal(4, state.GetProperty("launch").GetProperty("instances").GetArrayLength());
        Assert.Single(Runs.Entered(run), s => s == "LaunchNodes");
        Assert.Equal("ScaledUp", state.GetProperty("recorded").GetProperty("outcome").GetString());
        cloud.Model.Schedule();
        Assert.Empty(cloud.Model.Read((_, pods, _) => pods.Where(p => p.NodeName is null).ToList()));
        var item = cloud.StateItem();
        Assert.False(item.TryGetProperty("leaseOwner", out _));

        var startedAt = run.GetProperty("startedAt").GetInt64();
        var launchAt = run.GetProperty("calls").EnumerateArray().First(c => c.GetProperty("step").GetString() == "LaunchNodes").GetProperty("at").GetInt64();
        output.WriteLine($"pods unschedulable at {unschedulableAt:O}; tick started {startedAt - unschedulableAt.ToUnixTimeMilliseconds()} ms later (Prometheus scrape + rate window); launch call {launchAt - startedAt} ms into the execution");

        // Six workers at 1 core each of 2: 50 % CPU, between the thresholds. Wait past the cooldown.
        await Task.Delay(TimeSpan.FromSeconds(6));
        var noOp = cloud.Run(new Dictionary<string, object>());

        Assert.Equal("SUCCEEDED", noOp.GetProperty("status").GetString());
        Assert.Equal(["CollectMetrics", "Decide", "Act?", "Done"], Runs.Entered(noOp));
        Assert.Equal(4, noOp.GetProperty("transitions").GetInt32());
        Assert.Equal("None", noOp.GetProperty("output").GetProperty("decision").GetProperty("action").GetString());
        output.WriteLine($"no-op tick: {noOp.GetProperty("transitions").GetInt32()} state transitions, reason: {noOp.GetProperty("output").GetProperty("decision").GetProperty("reason").GetString()}");

        // Load removed: three of the six pods go, and CPU drops. After the scale-down window the
        // empty workers are cordoned, re-checked and terminated together, in one execution; right
        // after, the scale-down cooldown holds.
        cloud.Model.Read((_, pods, _) => { foreach (var pod in pods) { pod.CpuUsageMillis = 50; } return 0; });
        foreach (var name in new[] { "web-3", "web-4", "web-5" })
        {
            Assert.True(cloud.Model.RemovePod("shop", name));
        }

        // The removal checks usage without the nodes against the peak over the scale-down window (12 s):
        // until the old load has left that window, only one empty worker may go. Tick once it has.
        await cloud.WaitUntilAsync(PromQl.MaxOver(PromQl.WorkerCpu(TimeSpan.FromSeconds(8)), TimeSpan.FromSeconds(12)), cpu => cpu < 0.2, () => "< 0.2", TimeSpan.FromSeconds(60));
        var down = await cloud.TickUntilActionAsync(TimeSpan.FromSeconds(60));

        var downState = down.GetProperty("output");
        Assert.Equal("ScaleDown", downState.GetProperty("decision").GetProperty("action").GetString());
        Assert.Equal(["DrainStart", "Drained?", "TerminateRemoved", "DeleteNode", "Record", "Notify", "Ended?", "Done"], Runs.Entered(down).SkipWhile(s => s != "DrainStart"));
        var decided = downState.GetProperty("decision");
        var removed = decided.GetProperty("alsoEmpty").EnumerateArray().Prepend(decided.GetProperty("nodeToRemove"))
            .Select(n => (Name: n.GetProperty("name").GetString()!, InstanceId: n.GetProperty("instanceId").GetString()!)).ToList();
        Assert.True(removed.Count >= 2, $"one scale-down removes the empty workers together: {decided.GetProperty("reason").GetString()}");
        Assert.Equal(removed.Count - 1, downState.GetProperty("drain").GetProperty("also").GetArrayLength());
        Assert.All(removed, r =>
        {
            Assert.Null(cloud.Model.Node(r.Name));
            Assert.DoesNotContain(cloud.Instances(), i => i.Id == r.InstanceId && i.State == "running");
        });
        output.WriteLine($"one scale-down removed {removed.Count} empty workers: {decided.GetProperty("reason").GetString()}; notes: {decided.GetProperty("notes").GetRawText()}");
        Assert.True(cloud.StateItem().TryGetProperty("lastScaleDownAt", out _));

        var again = cloud.Run(new Dictionary<string, object>());
        Assert.Equal("ScaleDownCooldown", again.GetProperty("output").GetProperty("decision").GetProperty("reasonCode").GetString());
        // Invariants: no lease held; the master never touched; min and max kept.
        Assert.False(cloud.StateItem().TryGetProperty("leaseOwner", out _));
        Assert.NotNull(cloud.Model.Node("master"));
        var managed = cloud.Model.Read((nodes, _, _) => nodes.Count(n => n.Labels.GetValueOrDefault("nodefleet.io/managed") == "true"));
        Assert.InRange(managed, 2, 10);

        Invariants.Check(cloud);
    }
}
