using System.Text.Json;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>A zone with no spot and no on-demand capacity: the launch lands in the other zone in the same execution, and the next one goes there first.</summary>
[Collection(CapacityCloudGroup.Name)]
public class CapacityTests(CapacityCloud cloud)
{
    private const int MaxNodes = 10; // the testbed's default
    private static readonly TimeSpan NodeJoinTimeout = TimeSpan.FromSeconds(10); // NODEFLEET_NODE_JOIN_TIMEOUT in the testbed

    private async Task PendingAsync(string app, int count)
    {
        for (var i = 0; i < count; i++)
        {
            cloud.Model.Add(new TestPod { Namespace = "shop", Name = $"{app}-{i}", OwnerName = app, Phase = "Pending", CpuMillis = 1500, MemoryBytes = 256L << 20, CpuUsageMillis = 200 });
        }

        await cloud.WaitForAsync("sum(kube_pod_status_unschedulable)", () =>
        {
            cloud.Model.Schedule();
            return cloud.Model.Read((_, pods, _) => pods.Count(p => p.Unschedulable));
        }, TimeSpan.FromSeconds(30));
    }

    private List<JsonElement> LiveInstances() =>
        cloud.Aws("ec2", "describe-instances", "--filters", $"Name=tag:nodefleet.io/cluster,Values={LocalEnvironment.Cluster}", "Name=instance-state-name,Values=pending,running")
            .GetProperty("Reservations").EnumerateArray().SelectMany(r => r.GetProperty("Instances").EnumerateArray()).ToList();

    private static bool IsMaster(JsonElement instance) =>
        instance.TryGetProperty("Tags", out var tags) && tags.EnumerateArray().Any(t => t.GetProperty("Key").GetString() == "nodefleet.io/role");

    private List<IReadOnlyDictionary<string, string>> CreateFleetsSince(int index)
    {
        lock (cloud.Proxy.Requests)
        {
            return cloud.Proxy.Requests.Skip(index).Where(r => r.GetValueOrDefault("Action") == "CreateFleet").ToList();
        }
    }

    private int RequestsSoFar()
    {
        lock (cloud.Proxy.Requests)
        {
            return cloud.Proxy.Requests.Count;
        }
    }

    [Fact]
    public async Task SpotAndOnDemandOutOfCapacityInOneZone_LaunchLandsInTheOther_PoolRemembered_NextLaunchGoesThereFirst()
    {
        cloud.Model.Add(TestNode.ControlPlane());
        var master = cloud.Aws("ec2", "run-instances", "--image-id", "ami-12c6146b", "--count", "1", "--instance-type", "t3.medium",
            "--tag-specifications", $"ResourceType=instance,Tags=[{{Key=nodefleet.io/cluster,Value={LocalEnvironment.Cluster}}},{{Key=nodefleet.io/role,Value=master}}]")
            .GetProperty("Instances")[0].GetProperty("InstanceId").GetString()!;
        var (zoneA, subnetA) = cloud.WorkerSubnets[0];
        var (zoneB, subnetB) = cloud.WorkerSubnets[1];
        cloud.Notifications();

        // 1. us-east-1a has neither spot nor on-demand capacity for anything.
        cloud.Proxy.Rule = form => FaultProxy.CreateFleetSubnets(form).Contains(subnetA) ? new Fault(200, FaultProxy.NoCapacity(form)) : null;
        await PendingAsync("a", 2);
        var first = cloud.Run(new Dictionary<string, object>());

        Assert.True(first.GetProperty("status").GetString() == "SUCCEEDED", first.GetRawText());
        Assert.Equal("ScaledUp", first.GetProperty("output").GetProperty("recorded").GetProperty("outcome").GetString());
        var launch = first.GetProperty("output").GetProperty("launch");
        Assert.Equal(launch.GetProperty("requested").GetInt32(), launch.GetProperty("instances").GetArrayLength());
        Assert.All(launch.GetProperty("instances").EnumerateArray(), i => Assert.Equal(zoneB, i.GetProperty("zone").GetString()));
        var failed = launch.GetProperty("failedPools").EnumerateArray().ToList();
        Assert.Contains(failed, p => p.GetProperty("zone").GetString() == zoneA && p.GetProperty("capacityType").GetString() == "Spot" && p.GetProperty("capacity").GetBoolean());
        Assert.Contains(failed, p => p.GetProperty("zone").GetString() == zoneA && p.GetProperty("capacityType").GetString() == "OnDemand" && p.GetProperty("capacity").GetBoolean());
        Assert.Single(first.GetProperty("calls").EnumerateArray(), c => c.GetProperty("step").GetString() == "LaunchNodes"); // in the same execution, no retry

        // The pools are remembered as unavailable in the state item...
        var pools = JsonDocument.Parse(cloud.StateItem().GetProperty("unavailablePools").GetProperty("S").GetString()!).RootElement.EnumerateArray().ToList();
        Assert.Contains(pools, p => p.GetProperty("zone").GetString() == zoneA && p.GetProperty("capacityType").GetString() == "Spot");
        Assert.Contains(pools, p => p.GetProperty("zone").GetString() == zoneA && p.GetProperty("capacityType").GetString() == "OnDemand");

        // ...and the notification says where the launch landed and which pools refused.
        var notice = Assert.Single(cloud.Notifications());
        Assert.Contains($"in {zoneB}", notice, StringComparison.Ordinal);
        Assert.Contains($"spot in {zoneA}: InsufficientInstanceCapacity", notice, StringComparison.Ordinal);

        // 2. us-east-1a has capacity again, and holds no worker (the balancer would pick it):
        //    within the pools' time to live the next launch asks us-east-1b first.
        cloud.Proxy.Rule = _ => null;
        await PendingAsync("b", 1);
        var before = RequestsSoFar();
        var second = cloud.Run(new Dictionary<string, object>());

        Assert.True(second.GetProperty("status").GetString() == "SUCCEEDED", second.GetRawText());
        var asked = CreateFleetsSince(before);
        Assert.NotEmpty(asked);
        Assert.Equal([subnetB], FaultProxy.CreateFleetSubnets(asked[0]));
        Assert.All(second.GetProperty("output").GetProperty("launch").GetProperty("instances").EnumerateArray(), i => Assert.Equal(zoneB, i.GetProperty("zone").GetString()));

        // Invariants, after the join timeout: every managed instance is a Ready node, no more than
        // maxNodes of them, the master untouched.
        await Task.Delay(NodeJoinTimeout);
        var live = LiveInstances();
        var workers = live.Where(i => !IsMaster(i)).Select(i => i.GetProperty("InstanceId").GetString()!).ToList();
        Assert.All(workers, id => Assert.True(
            cloud.Model.Read((nodes, _, _) => nodes.Any(n => (n.ProviderId ?? "").EndsWith("/" + id, StringComparison.Ordinal) && n.Ready)),
            $"{id} runs without a Ready node"));
        Assert.InRange(workers.Count, 1, MaxNodes);
        Assert.Contains(live, i => i.GetProperty("InstanceId").GetString() == master && i.GetProperty("State").GetProperty("Name").GetString() == "running");
        Assert.NotNull(cloud.Model.Read((nodes, _, _) => nodes.FirstOrDefault(n => n.Name == TestNode.ControlPlane().Name)));
        Assert.False(cloud.StateItem().TryGetProperty("leaseOwner", out _));

        Invariants.Check(cloud, maxNodes: MaxNodes);
    }
}
