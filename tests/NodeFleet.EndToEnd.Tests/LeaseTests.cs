using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>A fresh cloud whose launched nodes take long enough to boot that a second wave arrives meanwhile.</summary>
public sealed class WaveCloud : LocalCloud;

[CollectionDefinition(Name)]
public sealed class WaveCloudGroup : ICollectionFixture<WaveCloud>
{
    public const string Name = "wave-cloud";
}

/// <summary>A fresh cloud whose drains a budget may hold for long (a drain timeout of 40 s).</summary>
public sealed class PreemptCloud : LocalCloud
{
    public PreemptCloud() => SettingsOverrides = new Dictionary<string, string> { ["NODEFLEET_DRAIN_TIMEOUT"] = "40s" };
}

[CollectionDefinition(Name)]
public sealed class PreemptCloudGroup : ICollectionFixture<PreemptCloud>
{
    public const string Name = "preempt-cloud";
}

internal static class Waves
{
    public static long CallAt(JsonElement run, string step, bool last = false)
    {
        var calls = run.GetProperty("calls").EnumerateArray().Where(c => c.GetProperty("step").GetString() == step).Select(c => c.GetProperty("at").GetInt64()).ToList();
        Assert.NotEmpty(calls);
        return last ? calls[^1] : calls[0];
    }

    /// <summary>Pods too large for any worker's free room: each needs a node of its own.</summary>
    public static void AddPending(LocalCloud cloud, string owner, int count)
    {
        for (var i = 0; i < count; i++)
        {
            cloud.Model.Add(new TestPod { Namespace = "shop", Name = $"{owner}-{i}", Phase = "Pending", OwnerName = owner, CpuMillis = 1950, MemoryBytes = 256L << 20, CpuUsageMillis = 500 });
        }
    }
}

/// <summary>The lease is held only while an execution changes the fleet: a boot holds none.</summary>
[Collection(WaveCloudGroup.Name)]
public class SecondWaveTests(WaveCloud cloud)
{
    [Fact]
    public async Task SecondWave_WhileTheFirstBoots_LaunchesForItsOwnPodsOnly()
    {
        cloud.Model.Add(TestNode.ControlPlane());
        foreach (var worker in new[] { "w1", "w2" })
        {
            cloud.AddWorker(worker);
            cloud.Model.Add(new TestPod { Namespace = "shop", Name = $"api-{worker}", NodeName = worker, OwnerName = "api", CpuMillis = 1000, CpuUsageMillis = 500 });
        }

        // Long enough that the first execution is still waiting for its nodes when the second wave comes.
        cloud.Nodes.BootDelay = TimeSpan.FromSeconds(7);
        Waves.AddPending(cloud, "first", 2);
        await cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", 2, TimeSpan.FromSeconds(30));

        var first = Task.Run(() => cloud.Run(new Dictionary<string, object>()));
        // The first launch is in flight, its lease released: the boot goes on without it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (cloud.Instances().Count(i => i.State is "pending" or "running") < 4 || cloud.StateItem().TryGetProperty("leaseOwner", out _))
        {
            Assert.True(DateTime.UtcNow < deadline && !first.IsCompleted, "the first wave's launch did not release the lease while its nodes booted");
            await Task.Delay(200);
        }

        Waves.AddPending(cloud, "second", 3);
        await cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", 5, TimeSpan.FromSeconds(30));
        var second = cloud.Run(new Dictionary<string, object>());
        var firstRun = await first;

        foreach (var run in new[] { firstRun, second })
        {
            Assert.True(run.GetProperty("status").GetString() == "SUCCEEDED", run.GetRawText());
            Assert.Equal("ScaledUp", run.GetProperty("output").GetProperty("recorded").GetProperty("outcome").GetString());
        }

        // The second launched for its own pods only (the first wave's are covered by the launch in flight)...
        Assert.Equal(2, firstRun.GetProperty("output").GetProperty("decision").GetProperty("nodesToAdd").GetInt32());
        Assert.Equal(3, second.GetProperty("output").GetProperty("decision").GetProperty("nodesToAdd").GetInt32());
        // ...and did so while the first still waited for its nodes.
        Assert.True(Waves.CallAt(second, "LaunchNodes") < Waves.CallAt(firstRun, "CheckNodesReady", last: true), "the second wave waited for the first wave's boot");
        Assert.Equal(2 + 2 + 3, cloud.Instances().Count(i => i.State == "running"));
        cloud.Model.Schedule();
        Assert.Empty(cloud.Model.Read((_, pods, _) => pods.Where(p => p.NodeName is null).Select(p => p.Name).ToList()));
        Assert.Empty(cloud.StateItem().GetProperty("inFlight").GetProperty("S").GetString()!.Trim('[', ']'));

        Invariants.Check(cloud);
    }
}

/// <summary>A scale-up need preempts a scale-down drain.</summary>
[Collection(PreemptCloudGroup.Name)]
public class DrainPreemptionTests(PreemptCloud cloud)
{
    [Fact]
    public async Task PendingPods_DuringADrainABudgetHolds_AbortTheDrainAndLaunchInTheSameTick()
    {
        BudgetHeldDrain.Arrange(cloud);
        await cloud.WaitForAsync("count(kube_node_info)", 4, TimeSpan.FromSeconds(60));
        var scaleDown = Task.Run(() => cloud.TickUntilActionAsync(TimeSpan.FromSeconds(90)));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        string? held = null;
        while (held is null)
        {
            Assert.True(DateTime.UtcNow < deadline && !scaleDown.IsCompleted, "no scale-down drain started");
            held = cloud.Model.Read((nodes, _, _) => nodes.FirstOrDefault(n => CordonMark.FromAnnotations(n.Annotations)?.Reason == CordonReason.ScaleDown)?.Name);
            await Task.Delay(250);
        }

        Waves.AddPending(cloud, "burst", 2);
        await cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", 2, TimeSpan.FromSeconds(30));
        var scaleUp = cloud.Run(new Dictionary<string, object>());
        var drain = await scaleDown;
        cloud.Model.Cordoned = null;

        // The scale-up took the lease from the drain, lifted its cordon and launched, in one execution.
        Assert.True(scaleUp.GetProperty("status").GetString() == "SUCCEEDED", scaleUp.GetRawText());
        var up = scaleUp.GetProperty("output");
        Assert.Equal("PendingPods", up.GetProperty("decision").GetProperty("reasonCode").GetString());
        Assert.True(up.GetProperty("lock").GetProperty("acquired").GetBoolean());
        Assert.Contains(held, up.GetProperty("reconciled").GetProperty("uncordoned").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(2, up.GetProperty("launch").GetProperty("instances").GetArrayLength());
        Assert.Equal("ScaledUp", up.GetProperty("recorded").GetProperty("outcome").GetString());
        // The drain stopped where it was, touched nothing more and recorded that it was preempted.
        Assert.True(drain.GetProperty("status").GetString() == "SUCCEEDED", drain.GetRawText());
        Assert.Equal("Preempted", drain.GetProperty("output").GetProperty("drain").GetProperty("status").GetString());
        Assert.Equal("DrainPreempted", drain.GetProperty("output").GetProperty("recorded").GetProperty("outcome").GetString());
        Assert.DoesNotContain("AbortDrain", Runs.Entered(drain));
        Assert.DoesNotContain("TerminateRemoved", Runs.Entered(drain));
        // The node stays, in service, with the pods it still had.
        Assert.False(cloud.Model.Node(held)!.Unschedulable);
        Assert.Contains(cloud.Model.Read((_, pods, _) => pods.Select(p => $"{p.Name}@{p.NodeName}").ToList()), p => p == $"db-{held}@{held}");
        Assert.Contains("DrainPreempted", cloud.StateItem().GetProperty("history").GetRawText(), StringComparison.Ordinal);
        Assert.Contains(cloud.Notifications(), n => n.Contains($"Scale-down of {held} preempted", StringComparison.Ordinal));
        cloud.Model.Read((_, pods, _) => { foreach (var pod in pods.Where(p => p.Labels.GetValueOrDefault("app") == "db")) { pod.Phase = "Running"; } return 0; });

        Invariants.Check(cloud);
    }
}
