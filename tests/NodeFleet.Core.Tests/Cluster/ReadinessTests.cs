using NodeFleet.Core.Cluster;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Tests.Cluster;

public class ReadinessTests
{
    private static readonly DateTimeOffset Launched = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    private static LaunchOutcome Launch(params string[] ids) => new()
    {
        LaunchId = "launch-1",
        Requested = ids.Length,
        StartedAt = Launched,
        Instances = ids.Select(id => new LaunchedInstance { InstanceId = id, Zone = "us-east-1a", InstanceType = "t3.large", CapacityType = CapacityType.Spot }).ToList(),
    };

    private static ClusterNode Node(string instanceId, bool ready = true, bool cordoned = false, params string[] taints) =>
        new($"ip-{instanceId}", $"aws:///us-east-1a/{instanceId}", ready, cordoned, new Dictionary<string, string>(), taints.Select(t => new Taint(t, "NoSchedule")).ToList(), Launched);

    public static TheoryData<ClusterNode?, bool> Nodes() => new()
    {
        { Node("i-1"), true },
        { null, false },
        { Node("i-1", ready: false), false },
        { Node("i-1", cordoned: true), false },
        { Node("i-1", true, false, "node.cloudprovider.kubernetes.io/uninitialized"), false },
        { Node("i-1", true, false, "node.kubernetes.io/not-ready"), false },
        { Node("i-1", true, false, "dedicated"), true },
        { new ClusterNode("ip-i-1", "k3s://ip-i-1", true, false, new Dictionary<string, string>(), [], Launched), false },
    };

    [Theory]
    [MemberData(nameof(Nodes))]
    public void Evaluate_NodeState_DecidesWhetherTheInstanceJoined(ClusterNode? node, bool joined)
    {
        var report = Readiness.Evaluate(Launch("i-1"), node is null ? [] : [node], Launched.AddMinutes(2), Timeout);

        Assert.Equal(joined ? ReadinessStatus.AllReady : ReadinessStatus.Waiting, report.Status);
        Assert.Equal(joined ? 1 : 0, report.Ready.Count);
    }

    [Fact]
    public void Evaluate_PastTheDeadline_ListsTheOverdueAndKeepsTheJoined()
    {
        var report = Readiness.Evaluate(Launch("i-1", "i-2"), [Node("i-1")], Launched + Timeout, Timeout);

        Assert.Equal(ReadinessStatus.Overdue, report.Status);
        Assert.Equal("ip-i-1", Assert.Single(report.Ready).Node);
        Assert.Equal(["i-2"], report.Overdue);
        Assert.Empty(report.Pending);
        Assert.Equal(Launched + Timeout, report.Deadline);
    }
}
