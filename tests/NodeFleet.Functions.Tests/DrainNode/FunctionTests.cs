using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.DrainNode;
using NSubstitute;

namespace NodeFleet.Functions.Tests.DrainNode;

public class FunctionTests
{
    private readonly IClusterApi cluster = Substitute.For<IClusterApi>();
    private readonly IFleetStateStore store = Substitute.For<IFleetStateStore>();

    private Function Create() => new(cluster, store, TimeSpan.FromMinutes(10), new FixedClock(States.Now), TextWriter.Null);

    /// <summary>The request as the state machine sends it: with the lease.</summary>
    private static Stream Request(string json) => StreamJson.From(json[..json.LastIndexOf('}')] + ",\"lock\":" + States.HeldJson + "}");

    [Fact]
    public async Task FunctionHandler_Start_CordonsThenEvicts()
    {
        cluster.GetNodeAsync("w3", Arg.Any<CancellationToken>()).Returns(new ClusterNode("w3", null, true, false, new Dictionary<string, string>(), [], States.Now));
        cluster.ListPodsOnNodeAsync("w3", Arg.Any<CancellationToken>()).Returns([
            new ClusterPod("shop", "api", "w3", "Running", "ReplicaSet", false, false, new Dictionary<string, string>(), new Dictionary<string, string>(), 100, 100)]);
        cluster.EvictAsync("shop", "api", Arg.Any<CancellationToken>()).Returns(new EvictionOutcome(EvictionResult.Evicted));

        var output = StreamJson.Read(await Create().FunctionHandler(Request("""{"action":"Start","node":"w3"}""")));

        Received.InOrder(() =>
        {
            cluster.SetUnschedulableAsync("w3", true, Arg.Any<CancellationToken>());
            cluster.EvictAsync("shop", "api", Arg.Any<CancellationToken>());
        });
        Assert.Equal("Drained", output.GetProperty("status").GetString());
        Assert.Equal(States.Now, output.GetProperty("startedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task FunctionHandler_Abort_Uncordons()
    {
        cluster.GetNodeAsync("w3", Arg.Any<CancellationToken>()).Returns(new ClusterNode("w3", null, true, true, new Dictionary<string, string>(), [], States.Now));

        var output = StreamJson.Read(await Create().FunctionHandler(Request("""{"action":"Abort","node":"w3","startedAt":"2026-11-18T11:50:00Z"}""")));

        await cluster.Received(1).SetUnschedulableAsync("w3", false, Arg.Any<CancellationToken>());
        Assert.Equal("Aborted", output.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("Start")]
    [InlineData("Continue")]
    [InlineData("Abort")]
    [InlineData("Delete")]
    public async Task FunctionHandler_LeaseLost_TouchesNothing(string action)
    {
        store.EnsureHeldAsync(Arg.Any<Lease>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new LeaseNotHeldException("Fenced: another execution holds the lease")));

        await Assert.ThrowsAsync<LeaseNotHeldException>(() => Create().FunctionHandler(Request($$"""{"action":"{{action}}","node":"w3","startedAt":"2026-11-18T11:50:00Z"}""")));

        Assert.Empty(cluster.ReceivedCalls());
    }

    [Fact]
    public async Task FunctionHandler_NoLock_TouchesNothing()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From("""{"action":"Start","node":"w3"}""")));

        Assert.Contains("$.lock", error.Message, StringComparison.Ordinal);
        Assert.Empty(cluster.ReceivedCalls());
    }

    [Theory]
    [InlineData("""{"action":"Start","node":""}""", "$.node")]
    [InlineData("""{"action":"Explode","node":"w3"}""", "$.action")]
    [InlineData("""{"node":"w3"}""", "action")]
    public async Task FunctionHandler_BadRequest_TouchesNothing(string input, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From(input)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(cluster.ReceivedCalls());
    }
}
