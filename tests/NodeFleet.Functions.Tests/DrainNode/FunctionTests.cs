using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.DrainNode;
using NSubstitute;

namespace NodeFleet.Functions.Tests.DrainNode;

public class FunctionTests
{
    private readonly IClusterApi cluster = Substitute.For<IClusterApi>();
    private readonly IFleetStateStore store = Substitute.For<IFleetStateStore>();

    private Function Create() => new(cluster, store, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(15), new FixedClock(States.Now), TextWriter.Null);

    /// <summary>The request as the state machine sends it: with the lease.</summary>
    private static Stream Request(string json) => StreamJson.From(json[..json.LastIndexOf('}')] + ",\"lock\":" + States.HeldJson + "}");

    private static ClusterPod Pod(string name, DateTimeOffset? deletion = null, long grace = 30) =>
        new("shop", name, "w3", "Running", "ReplicaSet", false, false, new Dictionary<string, string>(), new Dictionary<string, string>(), 100, 100)
        {
            DeletionTimestamp = deletion,
            TerminationGracePeriodSeconds = grace,
        };

    [Fact]
    public async Task FunctionHandler_Start_CordonsWithTheMarkThenEvicts_TerminatingUntilTheGracePeriodAndMargin()
    {
        cluster.GetNodeAsync("w3", Arg.Any<CancellationToken>()).Returns(new ClusterNode("w3", null, true, false, new Dictionary<string, string>(), [], States.Now));
        cluster.ListPodsOnNodeAsync("w3", Arg.Any<CancellationToken>()).Returns([Pod("api", grace: 60)]);
        cluster.EvictAsync("shop", "api", Arg.Any<CancellationToken>()).Returns(new EvictionOutcome(EvictionResult.Evicted));

        var output = StreamJson.Read(await Create().FunctionHandler(Request("""{"action":"Start","node":"w3","executionId":"exec-1"}""")));

        Received.InOrder(() =>
        {
            cluster.CordonAsync("w3", new CordonMark { ExecutionId = "exec-1", Reason = CordonReason.ScaleDown, At = States.Now }, Arg.Any<CancellationToken>());
            cluster.EvictAsync("shop", "api", Arg.Any<CancellationToken>());
        });
        Assert.Equal("Terminating", output.GetProperty("status").GetString());
        Assert.Equal(States.Now, output.GetProperty("startedAt").GetDateTimeOffset());
        var terminating = Assert.Single(output.GetProperty("terminating").EnumerateArray());
        Assert.Equal("shop/api", terminating.GetProperty("pod").GetString());
        Assert.Equal(States.Now.AddSeconds(75), terminating.GetProperty("until").GetDateTimeOffset());
    }

    [Theory]
    [InlineData(-10, "Terminating")] // deletionTimestamp 10 s from now: still within its grace period
    [InlineData(14, "Terminating")] // its grace period ended 14 s ago: the margin is not over
    [InlineData(15, "Drained")] // grace period and margin over: the pod is not waited for any longer
    public async Task FunctionHandler_Continue_WaitsForATerminatingPodUntilItsDeletionTimestampPlusTheMargin(int secondsPastDeletion, string status)
    {
        cluster.ListPodsOnNodeAsync("w3", Arg.Any<CancellationToken>()).Returns([Pod("api", deletion: States.Now.AddSeconds(-secondsPastDeletion))]);

        var output = StreamJson.Read(await Create().FunctionHandler(Request("""{"action":"Continue","node":"w3","executionId":"exec-1","startedAt":"2026-11-18T11:59:00Z"}""")));

        Assert.Equal(status, output.GetProperty("status").GetString());
        await cluster.DidNotReceive().EvictAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    private static ClusterNode Node(string name, bool cordoned = false) => new(name, null, true, cordoned, new Dictionary<string, string>(), [], States.Now);

    [Fact]
    public async Task FunctionHandler_StartWithEmptyWorkers_CordonsEachAndKeepsOnlyThoseStillEmpty()
    {
        cluster.GetNodeAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(call => call.Arg<string>() == "e3" ? null : Node(call.Arg<string>()));
        cluster.ListPodsOnNodeAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns([]);
        // e2 got a pod since the decision: it is no longer empty.
        cluster.ListPodsOnNodeAsync("e2", Arg.Any<CancellationToken>()).Returns([Pod("late") with { NodeName = "e2" }]);

        var output = StreamJson.Read(await Create().FunctionHandler(Request("""{"action":"Start","node":"e0","executionId":"exec-1","also":[{"name":"e1","instanceId":"i-e1"},{"name":"e2","instanceId":"i-e2"},{"name":"e3","instanceId":"i-e3"}]}""")));

        Assert.Equal("Drained", output.GetProperty("status").GetString());
        Assert.Equal(["e1"], output.GetProperty("also").EnumerateArray().Select(n => n.GetProperty("name").GetString()));
        var mark = new CordonMark { ExecutionId = "exec-1", Reason = CordonReason.ScaleDown, At = States.Now };
        await cluster.Received(1).CordonAsync("e0", mark, Arg.Any<CancellationToken>());
        await cluster.Received(1).CordonAsync("e1", mark, Arg.Any<CancellationToken>());
        await cluster.Received(1).CordonAsync("e2", mark, Arg.Any<CancellationToken>());
        await cluster.Received(1).UncordonAsync("e2", Arg.Any<CancellationToken>());
        await cluster.DidNotReceive().CordonAsync("e3", Arg.Any<CordonMark>(), Arg.Any<CancellationToken>());
        await cluster.DidNotReceive().EvictAsync("shop", "late", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FunctionHandler_AbortAndDeleteWithEmptyWorkers_ActOnEach()
    {
        cluster.GetNodeAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(call => Node(call.Arg<string>(), cordoned: true));
        const string Also = "\"also\":[{\"name\":\"e1\",\"instanceId\":\"i-e1\"}]";

        await Create().FunctionHandler(Request($$"""{"action":"Abort","node":"e0","executionId":"exec-1",{{Also}}}"""));
        await Create().FunctionHandler(Request($$"""{"action":"Delete","node":"e0",{{Also}}}"""));

        await cluster.Received(1).UncordonAsync("e0", Arg.Any<CancellationToken>());
        await cluster.Received(1).UncordonAsync("e1", Arg.Any<CancellationToken>());
        await cluster.Received(1).DeleteNodeAsync("e0", Arg.Any<CancellationToken>());
        await cluster.Received(1).DeleteNodeAsync("e1", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FunctionHandler_Abort_Uncordons()
    {
        cluster.GetNodeAsync("w3", Arg.Any<CancellationToken>()).Returns(new ClusterNode("w3", null, true, true, new Dictionary<string, string>(), [], States.Now));

        var output = StreamJson.Read(await Create().FunctionHandler(Request("""{"action":"Abort","node":"w3","startedAt":"2026-11-18T11:50:00Z","executionId":"exec-1"}""")));

        await cluster.Received(1).UncordonAsync("w3", Arg.Any<CancellationToken>());
        Assert.Equal("Aborted", output.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("Abort")]
    [InlineData("Delete")]
    public async Task FunctionHandler_LeaseLost_TouchesNothing(string action)
    {
        LoseTheLease();

        await Assert.ThrowsAsync<LeaseNotHeldException>(() => Create().FunctionHandler(Request($$"""{"action":"{{action}}","node":"w3","executionId":"exec-1","startedAt":"2026-11-18T11:50:00Z"}""")));

        Assert.Empty(cluster.ReceivedCalls());
    }

    [Theory]
    [InlineData("Start")]
    [InlineData("Continue")]
    public async Task FunctionHandler_ScaleDownDrainWhoseLeaseWasTaken_IsPreemptedAndTouchesNothing(string action)
    {
        LoseTheLease();

        var output = StreamJson.Read(await Create().FunctionHandler(Request($$"""{"action":"{{action}}","node":"w3","executionId":"exec-1","startedAt":"2026-11-18T11:50:00Z"}""")));

        Assert.Equal("Preempted", output.GetProperty("status").GetString());
        Assert.Equal("w3", output.GetProperty("node").GetString());
        Assert.Contains("another execution holds the lease", output.GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.Empty(cluster.ReceivedCalls());
    }

    [Theory]
    [InlineData("Start")]
    [InlineData("Continue")]
    public async Task FunctionHandler_InterruptionDrainWhoseLeaseWasTaken_IsRefusedAndTouchesNothing(string action)
    {
        LoseTheLease();

        await Assert.ThrowsAsync<LeaseNotHeldException>(() => Create().FunctionHandler(Request($$$"""{"action":"{{{action}}}","node":"w3","executionId":"exec-1","startedAt":"2026-11-18T11:50:00Z","interruption":{"kind":"SpotInterruption","notAfter":"2026-11-18T11:52:00Z"}}""")));

        Assert.Empty(cluster.ReceivedCalls());
    }

    private void LoseTheLease() =>
        store.EnsureHeldAsync(Arg.Any<Lease>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new LeaseNotHeldException("Fenced: another execution holds the lease")));

    [Fact]
    public async Task FunctionHandler_NoLock_TouchesNothing()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From("""{"action":"Start","node":"w3","executionId":"exec-1"}""")));

        Assert.Contains("$.lock", error.Message, StringComparison.Ordinal);
        Assert.Empty(cluster.ReceivedCalls());
    }

    [Theory]
    [InlineData("""{"action":"Start","node":""}""", "$.node")]
    [InlineData("""{"action":"Explode","node":"w3"}""", "$.action")]
    [InlineData("""{"node":"w3"}""", "action")]
    [InlineData("""{"action":"Start","node":"w3"}""", "$.executionId")]
    [InlineData("""{"action":"Start","node":"w3","executionId":"exec-1","also":[{"name":"w3","instanceId":"i-w3"}]}""", "$.also")]
    [InlineData("""{"action":"Start","node":"w3","executionId":"exec-1","interruption":{"kind":"Rebalance"},"also":[{"name":"w4","instanceId":"i-w4"}]}""", "$.also")]
    [InlineData("""{"action":"Continue","node":"w3","executionId":"exec-1"}""", "$.startedAt: a Continue must carry")]   // else its timeout restarts on every call
    [InlineData("""{"action":"Continue","node":"w3","executionId":"exec-1","startedAt":"2026-11-18T13:00:00Z"}""", "$.startedAt: 2026-11-18T13:00:00.0000000+00:00 is after now")]
    [InlineData("""{"action":"Start","node":"w3","executionId":"exec-1","also":[null]}""", "$.also[0]: null")]
    public async Task FunctionHandler_BadRequest_TouchesNothing(string input, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From(input)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(cluster.ReceivedCalls());
    }
}
