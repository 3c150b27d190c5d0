using NodeFleet.AcquireLock;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;
using NSubstitute;

namespace NodeFleet.Functions.Tests.AcquireLock;

public class FunctionTests
{
    private readonly IFleetStateStore store = Substitute.For<IFleetStateStore>();

    private Function Create() =>
        new(store, ScalingSettings.Defaults, TimeSpan.FromMinutes(20), new FixedClock(States.Now), TextWriter.Null);

    [Fact]
    public async Task FunctionHandler_LeaseFree_ReturnsItWithTheFence()
    {
        store.AcquireAsync(Arg.Any<LeaseRequest>(), Arg.Any<CancellationToken>())
            .Returns(new LeaseGrant(new Lease(States.ExecutionId, 4, States.Now.AddMinutes(20)), null));

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(States.LockFor(States.ScaleDown()))));

        Assert.True(output.GetProperty("acquired").GetBoolean());
        Assert.Equal(4, output.GetProperty("fence").GetInt64());
        await store.Received(1).AcquireAsync(
            Arg.Is<LeaseRequest>(r => r.Owner == States.ExecutionId && r.Cooldown == CooldownScope.ScaleDown
                && r.Duration == TimeSpan.FromMinutes(20) && r.ScaleUpCooldown == TimeSpan.FromMinutes(5) && r.ScaleDownCooldown == TimeSpan.FromMinutes(2) && r.Now == States.Now),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FunctionHandler_LeaseHeldElsewhere_ReportsWhyWithoutFailing()
    {
        store.AcquireAsync(Arg.Any<LeaseRequest>(), Arg.Any<CancellationToken>()).Returns(new LeaseGrant(null, "held by exec-9 until 12:20"));

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(States.LockFor(States.ScaleUp()))));

        Assert.False(output.GetProperty("acquired").GetBoolean());
        Assert.Equal("held by exec-9 until 12:20", output.GetProperty("refusedBecause").GetString());
    }

    [Fact]
    public async Task FunctionHandler_NothingToDo_IsInvalidInputAndTouchesNothing()
    {
        var none = States.ScaleUp() with { Action = ScalingAction.None };

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(States.LockFor(none))));

        Assert.Contains("$.route", error.Message, StringComparison.Ordinal);
        await store.DidNotReceiveWithAnyArgs().AcquireAsync(default!, default);
    }

    [Fact]
    public async Task FunctionHandler_DryRunDecision_IsRefused()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(States.LockFor(States.ScaleUp() with { DryRun = true }))));

        Assert.Contains("NotifyOnly", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FunctionHandler_NoExecutionId_IsInvalidInput()
    {
        var state = States.LockFor(States.ScaleUp()) with { ExecutionId = "" };

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(state)));

        Assert.Contains("$.executionId", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DecisionReason.Interrupted, true)]
    [InlineData(DecisionReason.Unhealthy, false)]
    public async Task FunctionHandler_OnlyInterruptions_PreemptTheLease(DecisionReason reason, bool preempt)
    {
        store.AcquireAsync(Arg.Any<LeaseRequest>(), Arg.Any<CancellationToken>()).Returns(new LeaseGrant(new Lease(States.ExecutionId, 1, States.Now), null));
        var replace = States.ScaleUp() with { Action = ScalingAction.Replace, ReasonCode = reason, NodesToAdd = 1, NodeToRemove = new NodeRef { Name = "w3", InstanceId = "i-0w3" } };

        await Create().FunctionHandler(States.Json(States.LockFor(replace)));

        await store.Received(1).AcquireAsync(Arg.Is<LeaseRequest>(r => r.Preempt == preempt), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FunctionHandler_ScaleUp_DoesNotPreempt()
    {
        store.AcquireAsync(Arg.Any<LeaseRequest>(), Arg.Any<CancellationToken>()).Returns(new LeaseGrant(new Lease(States.ExecutionId, 1, States.Now), null));

        await Create().FunctionHandler(States.Json(States.LockFor(States.ScaleUp())));

        await store.Received(1).AcquireAsync(Arg.Is<LeaseRequest>(r => !r.Preempt), Arg.Any<CancellationToken>());
    }
}
