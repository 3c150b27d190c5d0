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

    private static LaunchOutcome Launch => new()
    {
        LaunchId = "launch-tick-42", Requested = 2, StartedAt = States.Now,
        Instances = [new LaunchedInstance { InstanceId = "i-1", Zone = "us-east-1a", InstanceType = "t3.large", CapacityType = CapacityType.Spot }],
    };

    private static UpdateStateRequest Request(Decision decision, LockResult? held = null) => new() { Decision = decision, Lock = held ?? States.Held };

    [Fact]
    public async Task FunctionHandler_AllJoined_RecordsScaledUpCompletesTheLaunchAndReleases()
    {
        var request = Request(States.ScaleUp()) with
        {
            Launch = Launch,
            Readiness = new ReadinessReport { Status = ReadinessStatus.AllReady, Deadline = States.Now.AddMinutes(10) },
        };

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(request)));

        await store.Received(1).RecordAndReleaseAsync(
            Arg.Is<Lease>(l => l.Fence == 7),
            Arg.Is<ScalingOutcome>(o => o.Kind == OutcomeKind.ScaledUp && o.At == States.Now && o.CompletedLaunches.SequenceEqual(new[] { "launch-tick-42" })
                && o.Summary.Contains("pods pending")),
            Arg.Any<CancellationToken>());
        Assert.Equal("ScaledUp", output.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task FunctionHandler_CaughtError_RecordsAFailureWithTheMessageNotTheStackTrace()
    {
        var cause = """{"errorType":"AwsThrottledException","errorMessage":"Rate exceeded","stackTrace":["at NodeFleet.Aws.Ec2.Ec2Api.CallAsync()"]}""";
        var request = Request(States.ScaleDown()) with { Error = new StepError { Error = "AwsThrottledException", Cause = cause } };

        await Create().FunctionHandler(States.Json(request));

        await store.Received(1).RecordAndReleaseAsync(Arg.Any<Lease>(),
            Arg.Is<ScalingOutcome>(o => o.Kind == OutcomeKind.Failed && o.Summary.Contains("AwsThrottledException: Rate exceeded") && !o.Summary.Contains("stackTrace")),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FunctionHandler_PathNotFinished_IsInvalidInputAndRecordsNothing()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(Request(States.ScaleUp()) with { Launch = Launch })));

        Assert.Contains("$.readiness", error.Message, StringComparison.Ordinal);
        await store.DidNotReceiveWithAnyArgs().RecordAndReleaseAsync(default!, default!, default);
    }

    [Fact]
    public async Task FunctionHandler_LockNotHeld_IsInvalidInput()
    {
        var request = Request(States.ScaleUp(), new LockResult { Acquired = false, RefusedBecause = "busy" }) with { Error = new StepError { Error = "X" } };

        await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(request)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FunctionHandler_BootOfALaunchThatReleasedTheLease_RecordsThroughItsLaunchRecord(bool recordExists)
    {
        store.RecordLaunchEndAsync("launch-tick-42", Arg.Any<ScalingOutcome>(), Arg.Any<CancellationToken>()).Returns(recordExists);
        var request = Request(States.ScaleUp()) with
        {
            Launch = Launch with { LeaseReleased = true },
            Readiness = new ReadinessReport { Status = ReadinessStatus.AllReady, Deadline = States.Now.AddMinutes(10) },
        };

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(request)));

        await store.Received(1).RecordLaunchEndAsync("launch-tick-42",
            Arg.Is<ScalingOutcome>(o => o.Kind == OutcomeKind.ScaledUp && o.CompletedLaunches.SequenceEqual(new[] { "launch-tick-42" })), Arg.Any<CancellationToken>());
        await store.DidNotReceiveWithAnyArgs().RecordAndReleaseAsync(default!, default!, default);
        Assert.Equal("ScaledUp", output.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task FunctionHandler_PreemptedDrain_RecordsItWithoutTheLease()
    {
        var request = Request(States.ScaleDown()) with
        {
            Drain = new DrainProgress { Node = "w3", Status = DrainStatus.Preempted, StartedAt = States.Now },
        };

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(request)));

        await store.Received(1).RecordPreemptedAsync(Arg.Is<Lease>(l => l.Fence == 7), Arg.Is<ScalingOutcome>(o => o.Kind == OutcomeKind.DrainPreempted && o.DrainAborted == null), Arg.Any<CancellationToken>());
        await store.DidNotReceiveWithAnyArgs().RecordAndReleaseAsync(default!, default!, default);
        Assert.Equal("DrainPreempted", output.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task FunctionHandler_ScaleDownWithEmptyWorkers_RecordsEveryNodeRemoved()
    {
        var request = Request(States.ScaleDown()) with
        {
            Drain = new DrainProgress { Node = "w3", Status = DrainStatus.Drained, StartedAt = States.Now, Also = [new NodeRef { Name = "w4", InstanceId = "i-w4" }] },
            Terminated = new StepResult { Summary = "Terminated i-w3, i-w4", Ids = ["i-w3", "i-w4"] },
        };

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(request)));

        await store.Received(1).RecordAndReleaseAsync(Arg.Any<Lease>(),
            Arg.Is<ScalingOutcome>(o => o.Kind == OutcomeKind.ScaledDown && o.RemovedNodes.SequenceEqual(new[] { "w3", "w4" })),
            Arg.Any<CancellationToken>());
        Assert.Equal("ScaledDown", output.GetProperty("outcome").GetString());
    }
}
