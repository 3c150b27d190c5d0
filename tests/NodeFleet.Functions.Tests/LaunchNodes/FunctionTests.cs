using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.LaunchNodes;
using NSubstitute;

namespace NodeFleet.Functions.Tests.LaunchNodes;

public class FunctionTests
{
    private readonly IComputeFleet fleet = Substitute.For<IComputeFleet>();
    private readonly IFleetStateStore store = Substitute.For<IFleetStateStore>();

    private Function Create() => new(fleet, store, new FixedClock(States.Now), TextWriter.Null, "prod");

    private static ManagedInstance Instance(string id, CapacityType type = CapacityType.Spot) =>
        new(id, "us-east-1a", "t3.large", type, "pending", "launch-tick-42", States.Now);

    [Fact]
    public async Task FunctionHandler_ScaleUp_LaunchesUnderTheExecutionsLaunchIdAndRecordsInFlight()
    {
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>())
            .Returns(new LaunchResult([Instance("i-1"), Instance("i-2", CapacityType.OnDemand)], []));

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(States.Launch(2, States.Held))));

        await fleet.Received(1).LaunchAsync(new LaunchRequest("launch-tick-42", 2), Arg.Any<CancellationToken>());
        await store.Received(1).RecordLaunchAsync(
            Arg.Is<Lease>(l => l.Fence == 7 && l.Owner == States.ExecutionId),
            Arg.Is<InFlightLaunch>(l => l.LaunchId == "launch-tick-42" && l.InstanceIds.SequenceEqual(new[] { "i-1", "i-2" }) && l.StartedAt == States.Now),
            Arg.Any<CancellationToken>());
        Assert.Equal(2, output.GetProperty("instances").GetArrayLength());
        Assert.Equal("OnDemand", output.GetProperty("instances")[1].GetProperty("capacityType").GetString());
    }

    [Fact]
    public async Task FunctionHandler_NothingLaunched_RecordsNoLaunchAndReportsTheErrors()
    {
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>())
            .Returns(new LaunchResult([], ["us-east-1a on-demand t3.large: InsufficientInstanceCapacity"]));

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(States.Launch(2, States.Held))));

        Assert.Equal(0, output.GetProperty("instances").GetArrayLength());
        Assert.Contains("InsufficientInstanceCapacity", output.GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        await store.DidNotReceiveWithAnyArgs().RecordLaunchAsync(default!, default!, default);
    }

    [Fact]
    public async Task FunctionHandler_WithoutTheLock_LaunchesNothing()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(States.Launch(2, new LockResult { Acquired = false, RefusedBecause = "busy" }))));

        Assert.Contains("$.lock", error.Message, StringComparison.Ordinal);
        await fleet.DidNotReceiveWithAnyArgs().LaunchAsync(default!, default);
    }

    [Fact]
    public async Task FunctionHandler_LeaseLost_LaunchesNothing()
    {
        store.EnsureHeldAsync(Arg.Any<Lease>(), States.Now, Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new LeaseNotHeldException("Fenced: an interruption took the lease")));

        await Assert.ThrowsAsync<LeaseNotHeldException>(() => Create().FunctionHandler(States.Json(States.Launch(2, States.Held))));

        await fleet.DidNotReceiveWithAnyArgs().LaunchAsync(default!, default);
    }

    [Fact]
    public async Task FunctionHandler_NoNodesToAdd_IsInvalidInput()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(States.Launch(0, States.Held))));

        Assert.Contains("$.nodesToAdd", error.Message, StringComparison.Ordinal);

        await fleet.DidNotReceiveWithAnyArgs().LaunchAsync(default!, default);
    }

    [Theory]
    [InlineData("arn:aws:states:us-east-1:1:execution:nodefleet:tick-42", "launch-tick-42")]
    [InlineData("arn:aws:states:us-east-1:1:execution:nodefleet:a b/c", "launch-a-b-c")]
    public void LaunchIds_For_UsesTheExecutionName(string executionId, string expected)
    {
        Assert.Equal(expected, LaunchIds.For(executionId));
    }
}
