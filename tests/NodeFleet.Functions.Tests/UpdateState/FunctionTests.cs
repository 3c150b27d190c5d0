using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.UpdateState;
using NSubstitute;

namespace NodeFleet.Functions.Tests.UpdateState;

public class FunctionTests
{
    private readonly IFleetStateStore store = Substitute.For<IFleetStateStore>();

    private Function Create() => new(store, new FixedClock(States.Now), TextWriter.Null);

    private static LaunchOutcome Launch => new() { LaunchId = "launch-tick-42", Requested = 2, StartedAt = States.Now, Instances = [] };

    [Fact]
    public async Task FunctionHandler_ScaledUp_RecordsTheOutcomeCompletesTheLaunchAndReleases()
    {
        var state = States.With(States.ScaleUp(), States.Held) with { Launch = Launch, Outcome = new OutcomeReport { Kind = OutcomeKind.ScaledUp, Detail = "2 of 2 joined" } };

        await Create().FunctionHandler(States.Json(state));

        await store.Received(1).RecordAndReleaseAsync(
            Arg.Is<Lease>(l => l.Fence == 7),
            Arg.Is<ScalingOutcome>(o => o.Kind == OutcomeKind.ScaledUp && o.At == States.Now && o.CompletedLaunches.SequenceEqual(new[] { "launch-tick-42" })
                && o.Summary.Contains("pods pending") && o.Summary.Contains("2 of 2 joined")),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FunctionHandler_CaughtError_RecordsAFailure()
    {
        var state = States.With(States.ScaleDown(), States.Held) with { Error = new StepError { Error = "AwsThrottledException", Cause = "Rate exceeded" } };

        await Create().FunctionHandler(States.Json(state));

        await store.Received(1).RecordAndReleaseAsync(Arg.Any<Lease>(),
            Arg.Is<ScalingOutcome>(o => o.Kind == OutcomeKind.Failed && o.Summary.Contains("AwsThrottledException: Rate exceeded")), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FunctionHandler_NoOutcome_IsInvalidInput()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(States.With(States.ScaleUp(), States.Held))));

        Assert.Contains("$.outcome", error.Message, StringComparison.Ordinal);
        await store.DidNotReceiveWithAnyArgs().RecordAndReleaseAsync(default!, default!, default);
    }

    [Fact]
    public async Task FunctionHandler_LockNotHeld_IsInvalidInput()
    {
        var state = States.With(States.ScaleUp(), new LockResult { Acquired = false, RefusedBecause = "busy" }) with { Outcome = new OutcomeReport { Kind = OutcomeKind.ScaledUp } };

        await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(state)));
    }
}
