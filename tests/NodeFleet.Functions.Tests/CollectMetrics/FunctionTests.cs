using NodeFleet.CollectMetrics;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace NodeFleet.Functions.Tests.CollectMetrics;

public class FunctionTests
{
    private readonly IMetricsSource metrics = Substitute.For<IMetricsSource>();
    private readonly IClusterApi cluster = Substitute.For<IClusterApi>();
    private readonly IComputeFleet instances = Substitute.For<IComputeFleet>();
    private readonly IFleetStateStore store = Substitute.For<IFleetStateStore>();

    public FunctionTests()
    {
        cluster.ListNodesAsync(Arg.Any<string?>(), Arg.Any<CancellationToken>()).Returns([]);
        instances.DescribeManagedAsync(Arg.Any<CancellationToken>()).Returns([]);
    }

    private Function Create() => new(metrics, cluster, instances, store, new FixedClock(States.Now), TextWriter.Null, "prod", States.Origin);

    private static NodeInfo Worker(string name) => new()
    {
        Name = name, InstanceId = "i-" + name, Ready = true, Managed = true,
        Allocatable = new Resources(2000, 8L << 30, 110), Requested = new Resources(500, 1L << 30, 3),
    };

    [Fact]
    public async Task FunctionHandler_Measures_AndAddsEachWorkersPodFactsAndTheState()
    {
        metrics.CollectAsync(States.Now, Arg.Any<CancellationToken>()).Returns(new ClusterSnapshot
        {
            CapturedAt = States.Now, Utilization = new UtilizationMetrics { CpuNow = 0.4 }, Nodes = [Worker("w1")], UnschedulablePods = [],
        });
        cluster.ListPodsAsync(Arg.Any<CancellationToken>()).Returns([
            new ClusterPod("shop", "api", "w1", "Running", "ReplicaSet", false, false, new Dictionary<string, string>(), new Dictionary<string, string>(), 250, 1L << 28),
            new ClusterPod("shop", "tmp", "w1", "Running", "ReplicaSet", false, true, new Dictionary<string, string>(), new Dictionary<string, string>(), 100, 1L << 20),
        ]);
        cluster.ListDisruptionBudgetsAsync(Arg.Any<CancellationToken>()).Returns([]);
        store.LoadAsync(Arg.Any<CancellationToken>()).Returns(FleetState.Empty with { LastScaleUpAt = States.Now.AddMinutes(-3) });

        var output = StreamJson.Read(await Create().FunctionHandler(StreamJson.From("""{"event":{}}""")));

        var node = output.GetProperty("snapshot").GetProperty("nodes")[0];
        Assert.Equal(250, node.GetProperty("movablePods")[0].GetProperty("cpuMillis").GetInt64());
        Assert.Equal("LocalStorage", node.GetProperty("blockers")[0].GetProperty("reason").GetString());
        Assert.Equal(States.Now.AddMinutes(-3), output.GetProperty("fleet").GetProperty("lastScaleUpAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task FunctionHandler_Tick_ReportsEc2InstancesAndApiNodesAsTheInventory()
    {
        metrics.CollectAsync(States.Now, Arg.Any<CancellationToken>()).Returns(new ClusterSnapshot
        {
            CapturedAt = States.Now, Utilization = new UtilizationMetrics { CpuNow = 0.4 }, Nodes = [], UnschedulablePods = [],
        });
        cluster.ListPodsAsync(Arg.Any<CancellationToken>()).Returns([]);
        cluster.ListDisruptionBudgetsAsync(Arg.Any<CancellationToken>()).Returns([]);
        store.LoadAsync(Arg.Any<CancellationToken>()).Returns(FleetState.Empty);
        var labels = new Dictionary<string, string> { ["nodefleet.io/managed"] = "true" };
        cluster.ListNodesAsync(null, Arg.Any<CancellationToken>()).Returns([
            new ClusterNode("w1", "aws:///us-east-1a/i-0aaa", false, false, labels, [], States.Now.AddHours(-1)) { ReadyChangedAt = States.Now.AddMinutes(-12) }]);
        instances.DescribeManagedAsync(Arg.Any<CancellationToken>()).Returns([
            new ManagedInstance("i-0aaa", "us-east-1a", "t3.large", CapacityType.OnDemand, "running", "launch-1", States.Now.AddHours(-1)),
            new ManagedInstance("i-0bbb", "us-east-1b", "t3.large", CapacityType.Spot, "pending", null, States.Now.AddMinutes(-1))]);

        var output = StreamJson.Read(await Create().FunctionHandler(StreamJson.From("""{"event":{}}""")));

        var inventory = output.GetProperty("inventory");
        Assert.Equal(["i-0aaa", "i-0bbb"], inventory.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("instanceId").GetString()));
        var node = inventory.GetProperty("nodes")[0];
        Assert.Equal("i-0aaa", node.GetProperty("instanceId").GetString());
        Assert.False(node.GetProperty("ready").GetBoolean());
        Assert.Equal(States.Now.AddMinutes(-12), node.GetProperty("readyChangedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task FunctionHandler_PrometheusDown_FailsWithTheNamedError()
    {
        metrics.CollectAsync(default, default).ThrowsAsyncForAnyArgs(new MetricsUnavailableException("nodes: Prometheus could not be reached"));

        await Assert.ThrowsAsync<MetricsUnavailableException>(() => Create().FunctionHandler(StreamJson.From("""{"event":{}}""")));
    }

    [Fact]
    public async Task FunctionHandler_SpotInterruption_ReadsNodesFromTheApiNotPrometheus()
    {
        cluster.ListNodesAsync(null, Arg.Any<CancellationToken>()).Returns([
            new ClusterNode("w1", "aws:///us-east-1a/i-0aaa1", true, false, new Dictionary<string, string> { ["nodefleet.io/managed"] = "true" }, [], States.Now)
            {
                Allocatable = new Resources(2000, 8L << 30, 110),
            }]);
        store.LoadAsync(Arg.Any<CancellationToken>()).Returns(FleetState.Empty);
        const string warning = """{"detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","account":"123456789012","region":"us-east-1","time":"2026-11-18T11:59:50Z","detail":{"instance-id":"i-0aaa1","instance-action":"terminate"}}""";

        var output = StreamJson.Read(await Create().FunctionHandler(StreamJson.From($$"""{"event":{{warning}}}""")));

        await metrics.DidNotReceiveWithAnyArgs().CollectAsync(default, default);
        Assert.Equal("SpotInterruption", output.GetProperty("trigger").GetProperty("kind").GetString());
        var node = output.GetProperty("snapshot").GetProperty("nodes")[0];
        Assert.Equal(("i-0aaa1", true), (node.GetProperty("instanceId").GetString(), node.GetProperty("managed").GetBoolean()));
    }

    [Fact]
    public async Task FunctionHandler_MalformedTrigger_FailsBeforeTouchingAnything()
    {
        await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From("""{"event":{"detail-type":"EC2 Spot Instance Interruption Warning","detail":{}}}""")));

        Assert.Empty(metrics.ReceivedCalls());
        Assert.Empty(cluster.ReceivedCalls());
        Assert.Empty(store.ReceivedCalls());
    }
    /// <summary>Whoever may start an execution could forge a spot warning: refused by name before any call.</summary>
    [Theory]
    [InlineData("\"source\":\"my.app\",\"account\":\"123456789012\",\"region\":\"us-east-1\"", "source")]
    [InlineData("\"source\":\"aws.ec2\",\"account\":\"210987654321\",\"region\":\"us-east-1\"", "account")]
    [InlineData("\"source\":\"aws.ec2\",\"account\":\"123456789012\",\"region\":\"eu-west-1\"", "region")]
    public async Task FunctionHandler_ForgedOrForeignEc2Event_RefusedBeforeTouchingAnything(string envelope, string named)
    {
        var json = """{"event":{"detail-type":"EC2 Spot Instance Interruption Warning",""" + envelope + ""","time":"2026-11-18T11:59:50Z","detail":{"instance-id":"i-0aaa1","instance-action":"terminate"}}}""";

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From(json)));

        Assert.Contains("Untrusted trigger", error.Message, StringComparison.Ordinal);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Empty(metrics.ReceivedCalls());
        Assert.Empty(cluster.ReceivedCalls());
        Assert.Empty(instances.ReceivedCalls());
        Assert.Empty(store.ReceivedCalls());
    }
}
