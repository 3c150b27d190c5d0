using NodeFleet.Aws;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;
using NodeFleet.LaunchNodes;
using NSubstitute;

namespace NodeFleet.Functions.Tests.LaunchNodes;

public class FunctionTests
{
    private readonly IComputeFleet fleet = Substitute.For<IComputeFleet>();
    private readonly IFleetStateStore store = Substitute.For<IFleetStateStore>();

    private static readonly ScalingSettings Scaling = ScalingSettings.Defaults with { ClusterName = "prod", MaxNodes = 10, MaxStep = 4 };

    private Function Create(TimeSpan? launchBudget = null) => new(fleet, store, new FixedClock(States.Now), TextWriter.Null, Scaling, TimeSpan.FromMinutes(3), launchBudget);

    private static ManagedInstance Running(string id, string? launchId = "launch-earlier") =>
        new(id, "us-east-1a", "t3.large", CapacityType.OnDemand, "running", launchId, States.Now.AddHours(-1));

    public FunctionTests()
    {
        store.LoadAsync(Arg.Any<CancellationToken>()).Returns(FleetState.Empty);
        fleet.DescribeManagedAsync(Arg.Any<CancellationToken>()).Returns([]);
    }

    private static ManagedInstance Instance(string id, CapacityType type = CapacityType.Spot) =>
        new(id, "us-east-1a", "t3.large", type, "pending", "launch-tick-42", States.Now);

    [Fact]
    public async Task FunctionHandler_ScaleUp_LaunchesUnderTheExecutionsLaunchIdAndRecordsInFlight()
    {
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>())
            .Returns(new LaunchResult([Instance("i-1"), Instance("i-2", CapacityType.OnDemand)], []));

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(States.Launch(2, States.Held))));

        await fleet.Received(1).LaunchAsync(Arg.Is<LaunchRequest>(r => r.LaunchId == "launch-tick-42" && r.Count == 2 && r.TryLast.Count == 0), Arg.Any<CancellationToken>());
        await store.Received(1).RecordLaunchAsync(
            Arg.Is<Lease>(l => l.Fence == 7 && l.Owner == States.ExecutionId),
            Arg.Is<InFlightLaunch>(l => l.LaunchId == "launch-tick-42" && l.InstanceIds.SequenceEqual(new[] { "i-1", "i-2" }) && l.StartedAt == States.Now),
            Arg.Any<CancellationToken>());
        Assert.Equal(2, output.GetProperty("instances").GetArrayLength());
        Assert.Equal("OnDemand", output.GetProperty("instances")[1].GetProperty("capacityType").GetString());
    }

    [Fact]
    public async Task FunctionHandler_ZoneShares_ArePassedToTheLaunch()
    {
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>()).Returns(new LaunchResult([Instance("i-1")], []));
        var request = States.Launch(3, States.Held);
        request.Zones = [new ZoneShare { Zone = "us-east-1a", Nodes = 2 }];

        await Create().FunctionHandler(States.Json(request));

        await fleet.Received(1).LaunchAsync(Arg.Is<LaunchRequest>(r => r.Count == 3 && r.Zones.Count == 1 && r.Zones["us-east-1a"] == 2), Arg.Any<CancellationToken>());
    }

    public static TheoryData<string, ZoneShare[], string> BadShares() => new()
    {
        { "an unknown zone", [new() { Zone = "eu-west-1a", Nodes = 1 }], "'eu-west-1a' is not a worker zone" },
        { "no nodes", [new() { Zone = "us-east-1a", Nodes = 0 }], "$.zones[0].nodes: must be 1 or more" },
        { "a zone twice", [new() { Zone = "us-east-1a", Nodes = 1 }, new() { Zone = "us-east-1a", Nodes = 1 }], "zone us-east-1a is listed twice" },
        { "more than the launch", [new() { Zone = "us-east-1a", Nodes = 3 }], "3 node(s) pinned to zones, more than nodesToAdd (2)" },
    };

    [Theory]
    [MemberData(nameof(BadShares))]
    public async Task FunctionHandler_BadZoneShares_AreRefusedBeforeAnyCall(string why, ZoneShare[] shares, string expected)
    {
        var request = States.Launch(2, States.Held);
        request.Zones = shares;

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(request)));

        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{why}: {error.Message}");
        await fleet.DidNotReceiveWithAnyArgs().LaunchAsync(default!, default);
        await store.DidNotReceiveWithAnyArgs().EnsureHeldAsync(default!, default, default);
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

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public async Task FunctionHandler_NodesToAddOutsideOneToMaxStep_IsInvalidInputAndLaunchesNothing(int nodes)
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(States.Launch(nodes, States.Held))));

        Assert.Contains("maxStep (4)", error.Message, StringComparison.Ordinal);
        await fleet.DidNotReceiveWithAnyArgs().LaunchAsync(default!, default);
    }

    [Fact]
    public async Task FunctionHandler_PastMaxNodesCountingEveryManagedInstance_IsInvalidInputAndLaunchesNothing()
    {
        // Eight run, whatever DynamoDB recorded: three more would make eleven of ten.
        fleet.DescribeManagedAsync(Arg.Any<CancellationToken>()).Returns(Enumerable.Range(1, 8).Select(i => Running($"i-{i}")).ToList());

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(States.Json(States.Launch(3, States.Held))));

        Assert.Contains("above maxNodes (10)", error.Message, StringComparison.Ordinal);
        await fleet.DidNotReceiveWithAnyArgs().LaunchAsync(default!, default);
    }

    [Theory]
    [InlineData(WorkflowRoute.Replace, true)]
    [InlineData(WorkflowRoute.Launch, false)]
    public async Task FunctionHandler_AtMaxNodes_OnlyAReplacementLaunchesWhileTheReplacedInstanceRuns(WorkflowRoute route, bool launches)
    {
        fleet.DescribeManagedAsync(Arg.Any<CancellationToken>()).Returns(Enumerable.Range(1, 10).Select(i => Running($"i-{i}")).ToList());
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>()).Returns(new LaunchResult([Instance("i-new")], []));
        var request = States.Launch(1, States.Held) with { Route = route };

        var run = Create().FunctionHandler(States.Json(request));

        if (launches)
        {
            await run;
            await fleet.ReceivedWithAnyArgs(1).LaunchAsync(default!, default);
        }
        else
        {
            await Assert.ThrowsAsync<InvalidInputException>(() => run);
            await fleet.DidNotReceiveWithAnyArgs().LaunchAsync(default!, default);
        }
    }

    [Fact]
    public async Task FunctionHandler_RetryWhoseOwnInstancesRun_CountsThemAsPartOfTheLaunch()
    {
        // Eight others plus two of this launch's: the retry brings the launch to two, not past ten.
        fleet.DescribeManagedAsync(Arg.Any<CancellationToken>()).Returns([.. Enumerable.Range(1, 8).Select(i => Running($"i-{i}")), Running("i-9", "launch-tick-42"), Running("i-10", "launch-tick-42")]);
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>()).Returns(new LaunchResult([Instance("i-9"), Instance("i-10")], []));

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(States.Launch(2, States.Held))));

        Assert.Equal(2, output.GetProperty("instances").GetArrayLength());
    }

    [Fact]
    public async Task FunctionHandler_PoolsOutOfCapacity_RecordedUnavailableAndReportedWithWhereTheLaunchLanded()
    {
        var spotA = new Pool("t3.large", "us-east-1a", CapacityType.Spot);
        var onDemandA = new Pool("t3.large", "us-east-1a", CapacityType.OnDemand);
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>()).Returns(new LaunchResult(
            [new ManagedInstance("i-1", "us-east-1b", "t3.large", CapacityType.OnDemand, "pending", "launch-tick-42", States.Now)],
            ["us-east-1a spot t3.large: InsufficientInstanceCapacity", "us-east-1a on-demand t3.large: InsufficientInstanceCapacity", "us-east-1b spot t3.large: InvalidParameterValue bad"])
        {
            FailedPools =
            [
                new PoolFailure(spotA, "InsufficientInstanceCapacity", "none", Capacity: true),
                new PoolFailure(onDemandA, "InsufficientInstanceCapacity", "none", Capacity: true),
                new PoolFailure(new Pool("t3.large", "us-east-1b", CapacityType.Spot), "InvalidParameterValue", "bad", Capacity: false),
            ],
        });

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(States.Launch(1, States.Held))));

        await store.Received(1).RecordUnavailablePoolsAsync(
            Arg.Is<Lease>(l => l.Fence == 7), Arg.Is<IReadOnlyList<Pool>>(p => p.SequenceEqual(new[] { spotA, onDemandA })), States.Now, TimeSpan.FromMinutes(3), Arg.Any<CancellationToken>());
        var failed = output.GetProperty("failedPools");
        Assert.Equal(3, failed.GetArrayLength());
        Assert.Equal(("us-east-1a", "Spot", true), (failed[0].GetProperty("zone").GetString(), failed[0].GetProperty("capacityType").GetString(), failed[0].GetProperty("capacity").GetBoolean()));
        Assert.False(failed[2].GetProperty("capacity").GetBoolean());
        Assert.Equal("us-east-1b", output.GetProperty("instances")[0].GetProperty("zone").GetString());
    }

    [Fact]
    public async Task FunctionHandler_PoolsRecordedUnavailable_AreAskedLastUntilTheyExpire()
    {
        store.LoadAsync(Arg.Any<CancellationToken>()).Returns(FleetState.Empty with
        {
            UnavailablePools =
            [
                new UnavailablePool { InstanceType = "t3.large", Zone = "us-east-1a", CapacityType = CapacityType.Spot, Until = States.Now.AddMinutes(1) },
                new UnavailablePool { InstanceType = "m5.large", Zone = "us-east-1a", CapacityType = CapacityType.Spot, Until = States.Now.AddSeconds(-1) },
            ],
        });
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>()).Returns(new LaunchResult([Instance("i-1")], []));

        await Create().FunctionHandler(States.Json(States.Launch(1, States.Held)));

        await fleet.Received(1).LaunchAsync(
            Arg.Is<LaunchRequest>(r => r.TryLast.SequenceEqual(new[] { new Pool("t3.large", "us-east-1a", CapacityType.Spot) })), Arg.Any<CancellationToken>());
        await store.DidNotReceiveWithAnyArgs().RecordUnavailablePoolsAsync(default!, default!, default, default, default);
    }

    [Fact]
    public async Task FunctionHandler_Ec2SlowerThanTheLaunchBudget_IsAwsUnavailableNotALambdaTimeout()
    {
        // A fleet that never answers until cancelled: the deadline must cancel it and name the error.
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>()).Returns(async call =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, call.Arg<CancellationToken>());
            return new LaunchResult([], []);
        });

        var error = await Assert.ThrowsAsync<AwsUnavailableException>(() => Create(TimeSpan.FromMilliseconds(50)).FunctionHandler(States.Json(States.Launch(1, States.Held))));

        Assert.Equal("Deadline", error.Code);
        await store.DidNotReceiveWithAnyArgs().RecordLaunchAsync(default!, default!, default);
    }

    [Theory]
    [InlineData("arn:aws:states:us-east-1:1:execution:nodefleet:tick-42", "launch-tick-42")]
    [InlineData("arn:aws:states:us-east-1:1:execution:nodefleet:a b/c", "launch-a-b-c")]
    public void LaunchIds_For_UsesTheExecutionName(string executionId, string expected)
    {
        Assert.Equal(expected, LaunchIds.For(executionId));
    }

    [Theory]
    [InlineData(WorkflowRoute.Launch, true)]
    [InlineData(WorkflowRoute.Replace, false)]
    public async Task FunctionHandler_Route_ReleasesTheLeaseWithTheLaunchRecordOnlyOnAScaleUp(WorkflowRoute route, bool releases)
    {
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>()).Returns(new LaunchResult([Instance("i-1")], []));

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(States.Launch(1, States.Held) with { Route = route })));

        Assert.Equal(releases, output.GetProperty("leaseReleased").GetBoolean());
        if (releases)
        {
            // One write: the launch in flight, the scale-up stamped, the lease free for the next wave.
            await store.Received(1).ReleaseAfterLaunchAsync(Arg.Is<Lease>(l => l.Fence == 7), Arg.Is<InFlightLaunch>(l => l.LaunchId == "launch-tick-42"), Arg.Any<string>(), Arg.Any<CancellationToken>());
            await store.DidNotReceiveWithAnyArgs().RecordLaunchAsync(default!, default!, default);
        }
        else
        {
            // A replacement's execution drains the interrupted node after the boot: it keeps the lease.
            await store.Received(1).RecordLaunchAsync(Arg.Any<Lease>(), Arg.Any<InFlightLaunch>(), Arg.Any<CancellationToken>());
            await store.DidNotReceiveWithAnyArgs().ReleaseAfterLaunchAsync(default!, default!, default!, default);
        }
    }

    [Fact]
    public async Task FunctionHandler_ScaleUpThatLaunchedNothing_KeepsTheLeaseForTheRecord()
    {
        fleet.LaunchAsync(Arg.Any<LaunchRequest>(), Arg.Any<CancellationToken>()).Returns(new LaunchResult([], []));

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(States.Launch(1, States.Held) with { Route = WorkflowRoute.Launch })));

        Assert.False(output.GetProperty("leaseReleased").GetBoolean());
        await store.DidNotReceiveWithAnyArgs().ReleaseAfterLaunchAsync(default!, default!, default!, default);
    }
}
