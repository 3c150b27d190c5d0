using System.Globalization;
using System.Text.Json;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>EC2 refusing spot, EC2 throttling, and a lease left behind by a dead execution.</summary>
[Collection(FaultCloudGroup.Name)]
public class FaultTests(FaultCloud cloud)
{
    private async Task PendingAsync(string app, int count)
    {
        // Every instance launched so far must have joined first, or it could take the new pods.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (cloud.Instances().Where(i => i.State == "running").Any(i => cloud.Model.Read((nodes, _, _) => nodes.All(n => !(n.ProviderId ?? "").EndsWith("/" + i.Id, StringComparison.Ordinal)))))
        {
            Assert.True(DateTime.UtcNow < deadline, "launched instances did not join");
            await Task.Delay(250);
        }

        for (var i = 0; i < count; i++)
        {
            cloud.Model.Add(new TestPod { Namespace = "shop", Name = $"{app}-{i}", OwnerName = app, Phase = "Pending", CpuMillis = 1500, MemoryBytes = 256L << 20, CpuUsageMillis = 200 });
        }

        // Nodes launched by an earlier step may still join and take pods: compare with the model as it is at each poll.
        await cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", () =>
        {
            cloud.Model.Schedule();
            return cloud.Model.Read((_, pods, _) => pods.Count(p => p.Unschedulable));
        }, TimeSpan.FromSeconds(30));
    }

    private void SetLease(string owner, DateTimeOffset expires)
    {
        var key = JsonSerializer.Serialize(new Dictionary<string, object> { ["pk"] = new Dictionary<string, string> { ["S"] = $"cluster#{LocalEnvironment.Cluster}" } });
        var values = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            [":o"] = new Dictionary<string, string> { ["S"] = owner },
            [":e"] = new Dictionary<string, string> { ["N"] = expires.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) },
            [":f"] = new Dictionary<string, string> { ["N"] = "100" },
        });
        cloud.Aws("dynamodb", "update-item", "--table-name", cloud.Table, "--key", key,
            "--update-expression", "SET leaseOwner = :o, leaseExpiresAt = :e, fence = :f", "--expression-attribute-values", values);
    }

    [Fact]
    public async Task SpotRefused_OnDemandAtOnce_ThrottlingRetried_DeadLeaseTakenOverOnlyAfterExpiry()
    {
        cloud.Model.Add(TestNode.ControlPlane());

        // 1. No spot capacity anywhere: the same execution launches on demand.
        cloud.Proxy.Rule = form => FaultProxy.IsSpotCreateFleet(form) ? new Fault(200, FaultProxy.NoSpotCapacity()) : null;
        await PendingAsync("a", 2);
        var spotless = cloud.Run(new Dictionary<string, object>());
        cloud.Proxy.Rule = _ => null;

        Assert.True(spotless.GetProperty("status").GetString() == "SUCCEEDED", spotless.GetRawText());
        var launch = spotless.GetProperty("output").GetProperty("launch");
        Assert.Equal(2, launch.GetProperty("instances").GetArrayLength());
        Assert.All(launch.GetProperty("instances").EnumerateArray(), i => Assert.Equal("OnDemand", i.GetProperty("capacityType").GetString()));
        Assert.Contains("InsufficientInstanceCapacity", launch.GetProperty("errors")[0].GetString(), StringComparison.Ordinal);

        // 2. EC2 throttles every CreateFleet of two LaunchNodes invocations (each sends it once and
        //    the SDK retries it): the state machine retries LaunchNodes, and the third one launches.
        var throttled = 0;
        cloud.Proxy.Rule = form => form.GetValueOrDefault("Action") == "CreateFleet" && Interlocked.Increment(ref throttled) <= 2 * (NodeFleet.Aws.AwsCalls.SdkRetries + 1)
            ? new Fault(503, FaultProxy.Ec2Error("RequestLimitExceeded", "Request limit exceeded."))
            : null;
        await PendingAsync("b", 1);
        var retried = cloud.Run(new Dictionary<string, object>());
        cloud.Proxy.Rule = _ => null;

        Assert.True(retried.GetProperty("status").GetString() == "SUCCEEDED", retried.GetRawText());
        Assert.Equal(3, retried.GetProperty("calls").EnumerateArray().Count(c => c.GetProperty("step").GetString() == "LaunchNodes"));
        Assert.Equal("ScaledUp", retried.GetProperty("output").GetProperty("recorded").GetProperty("outcome").GetString());

        // 3. An execution died holding the lease. While it is live, a tick stops early and launches nothing...
        await PendingAsync("c", 1);
        var instancesBefore = cloud.Instances().Count;
        SetLease("arn:aws:states:us-east-1:123456789012:execution:nodefleet:dead", DateTimeOffset.UtcNow.AddMinutes(10));
        var busy = cloud.Run(new Dictionary<string, object>());

        Assert.Equal("Busy", Runs.Entered(busy)[^1]);
        Assert.Equal(instancesBefore, cloud.Instances().Count);

        // ...and once it has expired, the next tick takes it over with a higher fence and acts.
        SetLease("arn:aws:states:us-east-1:123456789012:execution:nodefleet:dead", DateTimeOffset.UtcNow.AddSeconds(-1));
        var takeover = cloud.Run(new Dictionary<string, object>());

        Assert.True(takeover.GetProperty("status").GetString() == "SUCCEEDED", takeover.GetRawText());
        Assert.Equal(101, takeover.GetProperty("output").GetProperty("lock").GetProperty("fence").GetInt64());
        Assert.Contains("LaunchNodes", Runs.Entered(takeover));
        Assert.False(cloud.StateItem().TryGetProperty("leaseOwner", out _));

        Invariants.Check(cloud);
    }
}
