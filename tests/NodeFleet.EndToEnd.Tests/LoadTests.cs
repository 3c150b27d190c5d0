using System.Text.Json;
using NodeFleet.Cluster.Prometheus;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>CPU stress with no pending pods, met by two executions started at the same moment.</summary>
[Collection(LoadCloudGroup.Name)]
public class LoadTests(LoadCloud cloud)
{
    [Fact]
    public async Task CpuStress_TwoExecutionsAtOnce_OneScalesUp_TheOtherStopsEarly()
    {
        cloud.Model.Add(TestNode.ControlPlane());
        foreach (var worker in new[] { "w1", "w2" })
        {
            cloud.AddWorker(worker);
            for (var i = 0; i < 2; i++)
            {
                // Every pod is placed, yet burns 95 % of what its node has: CPU alone must scale up.
                cloud.Model.Add(new TestPod { Namespace = "shop", Name = $"api-{worker}-{i}", NodeName = worker, OwnerName = "api-5d8", CpuMillis = 1000, CpuUsageMillis = 950 });
            }
        }

        // The condition Decide reads: the lowest worker CPU over the scale-up window (6 s) above 70 %.
        await cloud.WaitUntilAsync(PromQl.MinOver(PromQl.WorkerCpu(TimeSpan.FromSeconds(8)), TimeSpan.FromSeconds(6)), cpu => cpu > 0.8, () => "> 0.8", TimeSpan.FromSeconds(60));
        // New nodes take 5 s to join, so the execution that wins the lease holds it that long.
        cloud.Nodes.BootDelay = TimeSpan.FromSeconds(5);

        var runs = await Task.WhenAll(Task.Run(() => cloud.Run(new Dictionary<string, object>())), Task.Run(() => cloud.Run(new Dictionary<string, object>())));

        Assert.All(runs, run => Assert.True(run.GetProperty("status").GetString() == "SUCCEEDED", run.GetRawText()));
        var acted = Assert.Single(runs, run => Runs.Entered(run).Contains("LaunchNodes"));
        var stopped = Assert.Single(runs, run => !Runs.Entered(run).Contains("LaunchNodes"));
        var stoppedDecision = stopped.GetProperty("output").GetProperty("decision");
        // Started together, the two race in one of two correct ways: both decide to scale up and the
        // lease stops the second (Busy); or, when one starts late on a loaded machine, the winner's
        // launch is already in flight when the other measures, so it decides nothing to do.
        if (Runs.Entered(stopped)[^1] == "Busy")
        {
            Assert.Equal("ScaleUp", stoppedDecision.GetProperty("action").GetString());
        }
        else
        {
            Assert.Equal("Done", Runs.Entered(stopped)[^1]);
            Assert.Equal("None", stoppedDecision.GetProperty("action").GetString());
            Assert.True(stoppedDecision.GetProperty("figures").GetProperty("launchingWorkers").GetInt32() >= 1, stoppedDecision.GetRawText());
        }

        var state = acted.GetProperty("output");
        Assert.Equal("CpuHigh", state.GetProperty("decision").GetProperty("reasonCode").GetString());
        var added = state.GetProperty("decision").GetProperty("nodesToAdd").GetInt32();
        Assert.InRange(added, 1, 8);
        Assert.Equal(added, state.GetProperty("launch").GetProperty("instances").GetArrayLength());
        Assert.Equal("ScaledUp", state.GetProperty("recorded").GetProperty("outcome").GetString());
        // Only the winner launched (beside the two workers there were), and each instance is a Ready node.
        Assert.Equal(added + 2, cloud.Instances().Count(i => i.State == "running"));
        Assert.All(cloud.Instances(), i => Assert.NotNull(cloud.Model.Read((nodes, _, _) => nodes.FirstOrDefault(n => n.Ready && (n.ProviderId ?? "").EndsWith("/" + i.Id, StringComparison.Ordinal)))));
        Assert.False(cloud.StateItem().TryGetProperty("leaseOwner", out _));
        Assert.NotNull(cloud.Model.Node("master"));

        Invariants.Check(cloud);
    }
}
