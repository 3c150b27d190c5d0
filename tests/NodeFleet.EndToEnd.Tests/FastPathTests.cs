using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Testbed;
using Xunit.Abstractions;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>
/// The fast path end to end with real parts: Prometheus evaluates the rule file, Alertmanager 0.25
/// publishes to moto's SNS, the queue delivers raw, the local Pipe starts the real workflow with the
/// Pipe's array. Each scenario fills the workers first (so its pods need new nodes), ends once the
/// alert is gone and the Pipe's executions have ended, and closes with the invariants.
/// </summary>
[Collection(FastPathCloudGroup.Name)]
public class FastPathTests(FastPathCloud cloud, ITestOutputHelper output)
{
    [Fact]
    public async Task PendingPods_ThePipeStartsAnExecutionWithItsBatch_AndItLaunches()
    {
        // Arrange
        await FillWorkersAsync();
        var before = cloud.Pipe.Executions.Count;
        var spellStart = DateTimeOffset.UtcNow;

        // Act: two pods that need a node each.
        AddPods("fp-a", 2);
        var started = await UntilAsync(() => cloud.Pipe.Executions.Skip(before).FirstOrDefault(), TimeSpan.FromSeconds(60), "the Pipe started no execution");
        var run = await started.Run;
        await RunningAsync("fp-a");
        await SpellOverAsync();

        // Assert: the execution's input is the Pipe's one-element batch; it decided ScaleUp and launched both nodes.
        using var input = JsonDocument.Parse(started.Input);
        Assert.Equal(JsonValueKind.Array, input.RootElement.ValueKind);
        var pipeEvent = Assert.Single(input.RootElement.EnumerateArray());
        Assert.Equal(FastPath.Source, pipeEvent.GetProperty("source").GetString());
        var trigger = Trigger.Parse(input.RootElement, new EventOrigin(LocalEnvironment.Account, LocalEnvironment.Region));
        Assert.Equal(TriggerKind.PendingPods, trigger.Kind);
        Assert.Equal(2, trigger.PendingPods);
        Assert.True(run.GetProperty("status").GetString() == "SUCCEEDED", run.GetRawText());
        var decision = run.GetProperty("output").GetProperty("decision");
        Assert.Equal("ScaleUp", decision.GetProperty("action").GetString());
        Assert.Equal(2, decision.GetProperty("nodesToAdd").GetInt32());
        Assert.Contains("LaunchNodes", Runs.Entered(run));
        Assert.Equal(2, run.GetProperty("output").GetProperty("launch").GetProperty("instances").GetArrayLength());
        Report("one pending spell", before, spellStart);
        Invariants.Check(cloud);
    }

    [Fact]
    public async Task AlertStorm_AlertmanagerRenotifiesAndTicksRun_TheSamePodsLaunchOnce()
    {
        // Arrange: the new nodes do not join until the storm has blown, so the same pods stay pending
        // through Alertmanager's re-notifications (repeat_interval compressed, see FastPathCloud) and scheduled ticks.
        await FillWorkersAsync();
        var before = cloud.Pipe.Executions.Count;
        var instancesBefore = cloud.Instances().Select(i => i.Id).ToHashSet();
        var spellStart = DateTimeOffset.UtcNow;
        cloud.Nodes.Joining = false;
        using var stopTicks = new CancellationTokenSource();
        var ticks = new List<Task<JsonElement>>();

        // Act: ticks every two seconds as EventBridge starts them, without waiting for the last one.
        AddPods("fp-b", 3);
        var ticking = Task.Run(async () =>
        {
            while (!stopTicks.IsCancellationRequested)
            {
                ticks.Add(cloud.RunAsync("{}"));
                await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
        });
        try
        {
            await UntilAsync(() => cloud.Pipe.Executions.Count - before >= 3 ? "storm" : null, TimeSpan.FromSeconds(90), "Alertmanager did not notify three times");
        }
        finally
        {
            cloud.Nodes.Joining = true;
        }

        await RunningAsync("fp-b");
        await stopTicks.CancelAsync();
        await ticking;
        await SpellOverAsync();

        // Assert: one execution launched, three nodes, one per pod; every other one found them covered.
        var pipeRuns = await Task.WhenAll(cloud.Pipe.Executions.Skip(before).Select(e => e.Run));
        var tickRuns = await Task.WhenAll(ticks);
        var all = pipeRuns.Concat(tickRuns).ToList();
        Assert.All(all, r => Assert.True(r.GetProperty("status").GetString() == "SUCCEEDED", r.GetRawText()));
        Assert.Single(all, r => Runs.Entered(r).Contains("LaunchNodes"));
        var launched = cloud.Instances().Where(i => !instancesBefore.Contains(i.Id)).ToList();
        Assert.Equal(3, launched.Count);
        output.WriteLine($"storm: {pipeRuns.Length} fast-path and {tickRuns.Length} scheduled executions, one launch of {launched.Count} instances");
        Report("an alert storm", before, spellStart);
        Invariants.Check(cloud);
    }

    [Fact]
    public async Task AlertmanagerDown_PodsPending_AScheduledTickLaunches()
    {
        // Arrange
        await FillWorkersAsync();
        cloud.StopAlertmanager();
        try
        {
            var before = cloud.Pipe.Executions.Count;

            // Act
            AddPods("fp-c", 1);
            await cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", 1, TimeSpan.FromSeconds(30));
            var run = await cloud.TickUntilActionAsync(TimeSpan.FromSeconds(60));
            await RunningAsync("fp-c");

            // Assert
            Assert.Equal("ScaleUp", run.GetProperty("output").GetProperty("decision").GetProperty("action").GetString());
            Assert.Contains("LaunchNodes", Runs.Entered(run));
            Assert.Equal(before, cloud.Pipe.Executions.Count);
            Invariants.Check(cloud);
        }
        finally
        {
            await cloud.StartAlertmanagerAsync();
        }
    }

    /// <summary>
    /// The minimum of two workers, then every Ready worker filled to its last millicore by a pod
    /// bound to it, so a pod of 1.5 cores fits only on a new node; waits until Prometheus has seen it.
    /// </summary>
    private async Task FillWorkersAsync()
    {
        if (cloud.Model.Node("master") is null)
        {
            cloud.Model.Add(TestNode.ControlPlane());
            cloud.AddWorker("w1", TimeSpan.FromHours(1));
            cloud.AddWorker("w2", TimeSpan.FromHours(1));
        }

        var fills = cloud.Model.Read((nodes, pods, _) => nodes
            .Where(n => n.Ready && n.Labels.GetValueOrDefault("nodefleet.io/managed") == "true")
            .Select(n => (n.Name, Free: n.CpuMillis - pods.Where(p => p.NodeName == n.Name && p.Active).Sum(p => p.CpuMillis)))
            .Where(f => f.Free > 0).ToList());
        foreach (var (node, free) in fills)
        {
            cloud.Model.Add(new TestPod { Namespace = "fill", Name = $"fill-{node}-{Guid.NewGuid():N}"[..24], OwnerName = "fill", Phase = "Running", NodeName = node, CpuMillis = free, MemoryBytes = 64L << 20, CpuUsageMillis = 10 });
        }

        await cloud.WaitForAsync("count(kube_pod_info)", () => cloud.Model.Read((_, pods, _) => pods.Count), TimeSpan.FromSeconds(30));
    }

    private void AddPods(string name, int count)
    {
        for (var i = 0; i < count; i++)
        {
            cloud.Model.Add(new TestPod { Namespace = "shop", Name = $"{name}-{i}", OwnerName = name, Phase = "Pending", CpuMillis = 1500, MemoryBytes = 256L << 20, CpuUsageMillis = 100, Labels = { ["app"] = name } });
        }

        cloud.Model.Schedule();
    }

    private async Task RunningAsync(string name) =>
        await UntilAsync(() =>
        {
            cloud.Model.Schedule();
            return cloud.Model.Read((_, pods, _) => pods.Where(p => p.OwnerName == name).All(p => p.Phase == "Running")) ? name : null;
        }, TimeSpan.FromSeconds(90), $"the {name} pods did not all start");

    /// <summary>Until the rule no longer fires (the pods run) and every execution the Pipe started has ended.</summary>
    private async Task SpellOverAsync()
    {
        await cloud.WaitUntilAsync($"count(ALERTS{{alertname=\"{FastPath.AlertName}\"}}) or vector(0)", v => v == 0, () => "= 0", TimeSpan.FromSeconds(60));
        await cloud.Pipe.IdleAsync();
    }

    /// <summary>What the spell cost: the executions the Pipe started from its first alert until it was over (a figure for the report, not asserted).</summary>
    private void Report(string spell, int before, DateTimeOffset start)
    {
        var started = cloud.Pipe.Executions.Skip(before).ToList();
        output.WriteLine($"{spell}: the fast path started {started.Count} execution(s) over {(DateTimeOffset.UtcNow - start).TotalSeconds:0} s "
            + $"(group_interval {LocalEnvironment.Duration(cloud.AlertGroupInterval)}, repeat_interval {LocalEnvironment.Duration(cloud.AlertRepeatInterval)}); "
            + $"first {(started.Count > 0 ? (started[0].StartedAt - start).TotalSeconds : double.NaN):0.0} s after the pods were added");
    }

    private static async Task<T> UntilAsync<T>(Func<T?> probe, TimeSpan timeout, string failure)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (probe() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{failure} within {timeout.TotalSeconds} s");
            await Task.Delay(100);
        }
    }
}
