using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Workflow;

namespace NodeFleet.Core.Tests.Workflow;

public class FleetTransitionsTests
{
    private static readonly DateTimeOffset Earlier = new(2026, 11, 18, 11, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);

    private static InFlightLaunch Launch(string id) => new() { LaunchId = id, StartedAt = Earlier, InstanceIds = [$"i-{id}"] };

    private static readonly FleetState Before = new() { LastScaleUpAt = Earlier, LastScaleDownAt = Earlier, InFlight = [Launch("a"), Launch("b")] };

    [Theory]
    [InlineData(OutcomeKind.ScaledUp, true, false)]
    [InlineData(OutcomeKind.LaunchFailed, true, false)]
    [InlineData(OutcomeKind.ScaledDown, false, true)]
    [InlineData(OutcomeKind.ScaleDownAborted, false, false)]
    [InlineData(OutcomeKind.Replaced, false, false)]
    [InlineData(OutcomeKind.Failed, false, false)]
    [InlineData(OutcomeKind.DrainPreempted, false, false)]
    public void Recorded_EachOutcome_StampsItsCooldownOnly(OutcomeKind kind, bool scaleUp, bool scaleDown)
    {
        var after = FleetTransitions.Recorded(Before, new ScalingOutcome { Kind = kind, At = Now, Summary = "s" });

        Assert.Equal(scaleUp ? Now : Earlier, after.LastScaleUpAt);
        Assert.Equal(scaleDown ? Now : Earlier, after.LastScaleDownAt);
    }

    private static DrainBackoff Backoff(string node, DateTimeOffset at, string reason = "Overdue") => new() { Node = node, InstanceId = "i-" + node, At = at, Reason = reason };

    public static TheoryData<string, FleetState, ScalingOutcome, string[]> Backoffs() => new()
    {
        { "an aborted drain is remembered", FleetState.Empty, new() { Kind = OutcomeKind.ScaleDownAborted, At = Now, Summary = "s", DrainAborted = Backoff("w1", Now) }, ["w1@12:00"] },
        { "a second abort replaces the node's first", new() { DrainBackoffs = [Backoff("w1", Earlier), Backoff("w2", Earlier)] }, new() { Kind = OutcomeKind.Failed, At = Now, Summary = "s", DrainAborted = Backoff("w1", Now) }, ["w1@12:00", "w2@11:00"] },
        { "a removed node is forgotten", new() { DrainBackoffs = [Backoff("w1", Earlier), Backoff("w2", Earlier)] }, new() { Kind = OutcomeKind.ScaledDown, At = Now, Summary = "s", RemovedNodes = ["w2"] }, ["w1@11:00"] },
        { "other outcomes keep them", new() { DrainBackoffs = [Backoff("w1", Earlier)] }, new() { Kind = OutcomeKind.ScaledUp, At = Now, Summary = "s" }, ["w1@11:00"] },
    };

    [Theory]
    [MemberData(nameof(Backoffs))]
    public void Recorded_DrainBackoffs_OnePerNodeTheLatest(string scenario, FleetState before, ScalingOutcome outcome, string[] expected)
    {
        var after = FleetTransitions.Recorded(before, outcome);

        Assert.True(expected.SequenceEqual(after.DrainBackoffs.Select(b => $"{b.Node}@{b.At:HH:mm}")), $"{scenario}: {string.Join(", ", after.DrainBackoffs.Select(b => $"{b.Node}@{b.At:HH:mm}"))}");
    }

    [Fact]
    public void Recorded_ManyAbortedDrains_KeepsTheNewestWithinTheCap()
    {
        var state = FleetState.Empty;
        for (var i = 0; i < FleetTransitions.MaxDrainBackoffs + 5; i++)
        {
            state = FleetTransitions.Recorded(state, new ScalingOutcome { Kind = OutcomeKind.ScaleDownAborted, At = Now.AddMinutes(i), Summary = "s", DrainAborted = Backoff($"w{i}", Now.AddMinutes(i)) });
        }

        Assert.Equal(FleetTransitions.MaxDrainBackoffs, state.DrainBackoffs.Count);
        Assert.Equal($"w{FleetTransitions.MaxDrainBackoffs + 4}", state.DrainBackoffs[0].Node);
    }

    private static Decision DrainDecision(ScalingAction action) => new()
    {
        Action = action, ReasonCode = DecisionReason.Underutilized, Reason = "r", DecidedAt = Now, Figures = new DecisionFigures(),
        NodeToRemove = new NodeRef { Name = "w3", InstanceId = "i-3" }, NodesToAdd = action == ScalingAction.Replace ? 1 : 0,
    };

    [Theory]
    [InlineData(ScalingAction.ScaleDown, OutcomeKind.ScaleDownAborted, DrainStatus.Overdue, false, "Overdue")]
    [InlineData(ScalingAction.ScaleDown, OutcomeKind.ScaleDownAborted, DrainStatus.Blocked, false, "Blocked")]
    [InlineData(ScalingAction.ScaleDown, OutcomeKind.Failed, DrainStatus.Draining, true, "failed: ClusterUnavailableException")]
    [InlineData(ScalingAction.ScaleDown, OutcomeKind.ScaledDown, DrainStatus.Drained, false, null)]
    [InlineData(ScalingAction.Replace, OutcomeKind.Failed, DrainStatus.Draining, true, null)] // an interruption is not a scale-down choice
    public void BackoffFor_DrainRouteEnd_BacksOffOnlyAnAbortedScaleDown(ScalingAction action, OutcomeKind kind, DrainStatus status, bool error, string? reason)
    {
        var request = new UpdateStateRequest
        {
            Decision = DrainDecision(action),
            Lock = new LockResult { Acquired = true, Owner = "exec", Fence = 1 },
            Drain = new DrainProgress { Node = "w3", Status = status, StartedAt = Earlier },
            Error = error ? new StepError { Error = "ClusterUnavailableException", Cause = "API down" } : null,
        };

        var backoff = FleetTransitions.BackoffFor(request, kind, Now);

        Assert.Equal(reason, backoff?.Reason);
        if (backoff is not null)
        {
            Assert.Equal(new DrainBackoff { Node = "w3", InstanceId = "i-3", At = Now, Reason = reason! }, backoff);
        }
    }

    [Fact]
    public void Recorded_CompletedLaunch_StopsBeingInFlight_OthersStay()
    {
        var after = FleetTransitions.Recorded(Before, new ScalingOutcome { Kind = OutcomeKind.ScaledUp, At = Now, Summary = "s", CompletedLaunches = ["a"] });

        Assert.Equal(["b"], after.InFlight.Select(l => l.LaunchId));
    }

    [Fact]
    public void LaunchStarted_Retried_ReplacesItsEarlierRecord()
    {
        var retried = Launch("b") with { InstanceIds = ["i-b", "i-b2"] };

        var after = FleetTransitions.LaunchStarted(Before, retried);

        Assert.Equal(["a", "b"], after.InFlight.Select(l => l.LaunchId));
        Assert.Equal(["i-b", "i-b2"], after.InFlight[1].InstanceIds);
        Assert.Equal(Before.LastScaleUpAt, after.LastScaleUpAt); // a launch starts no cooldown until its path ends
    }

    private static readonly Pool SpotA = new("t3.large", "us-east-1a", CapacityType.Spot);
    private static readonly Pool OnDemandA = new("t3.large", "us-east-1a", CapacityType.OnDemand);

    private static UnavailablePool Listed(Pool pool, DateTimeOffset until) =>
        new() { InstanceType = pool.InstanceType, Zone = pool.Zone, CapacityType = pool.CapacityType, Until = until };

    [Fact]
    public void PoolsFailed_NewPools_ListedUntilNowPlusTheTtl()
    {
        var after = FleetTransitions.PoolsFailed(FleetState.Empty, [SpotA, OnDemandA, SpotA], Now, TimeSpan.FromMinutes(3));

        Assert.Equal([Listed(OnDemandA, Now.AddMinutes(3)), Listed(SpotA, Now.AddMinutes(3))], after.UnavailablePools);
    }

    [Fact]
    public void PoolsFailed_PoolListedAgain_KeepsTheLaterDeadlineOnce()
    {
        var before = FleetState.Empty with { UnavailablePools = [Listed(SpotA, Now.AddMinutes(1))] };

        var after = FleetTransitions.PoolsFailed(before, [SpotA], Now, TimeSpan.FromMinutes(3));

        Assert.Equal([Listed(SpotA, Now.AddMinutes(3))], after.UnavailablePools);
    }

    [Fact]
    public void PoolsFailed_ExpiredEntries_AreDroppedWhenWritten()
    {
        var before = FleetState.Empty with { UnavailablePools = [Listed(SpotA, Now.AddSeconds(-1)), Listed(OnDemandA, Now)] };

        var after = FleetTransitions.PoolsFailed(before, [], Now, TimeSpan.FromMinutes(3));

        Assert.Empty(after.UnavailablePools);
    }

    [Theory]
    [InlineData(-60, false)]
    [InlineData(0, false)]
    [InlineData(1, true)]
    public void Unavailable_OnlyPoolsWhoseDeadlineIsAhead(int untilSecondsFromNow, bool triedLast)
    {
        var state = FleetState.Empty with { UnavailablePools = [Listed(SpotA, Now.AddSeconds(untilSecondsFromNow))] };

        var pools = FleetTransitions.Unavailable(state, Now);

        Assert.Equal(triedLast, pools.Contains(SpotA));
    }
    private static NoScaleUpPods Unhelpable(string owner, NoScaleUpReason reason = NoScaleUpReason.NodeSelector) =>
        new() { Owner = owner, Count = 2, Reason = reason, Detail = "gpu=true" };

    [Fact]
    public void MarkNew_OwnersAndReasonsAlreadyTold_AreNotNew()
    {
        var state = new FleetState { NoScaleUpNotified = [new NoScaleUpNotice { Owner = "shop/ReplicaSet/gpu", Reason = NoScaleUpReason.NodeSelector }] };

        var marked = FleetTransitions.MarkNew([Unhelpable("shop/ReplicaSet/gpu"), Unhelpable("shop/ReplicaSet/gpu", NoScaleUpReason.Taint), Unhelpable("shop/ReplicaSet/arm")], state);

        Assert.Equal([false, true, true], marked.Select(p => p.New));
    }

    [Fact]
    public void Recorded_NoScaleUpList_ReplacesWhatWasTold_SoOwnersNoLongerPendingAreForgotten()
    {
        var state = new FleetState { NoScaleUpNotified = [new NoScaleUpNotice { Owner = "shop/ReplicaSet/old", Reason = NoScaleUpReason.Taint }] };

        var after = FleetTransitions.Recorded(state, new ScalingOutcome { Kind = OutcomeKind.NoScaleUpReported, At = Now, Summary = "s", NoScaleUp = [Unhelpable("shop/ReplicaSet/gpu")] });
        var untouched = FleetTransitions.Recorded(after, new ScalingOutcome { Kind = OutcomeKind.Failed, At = Now, Summary = "s" });

        Assert.Equal(["shop/ReplicaSet/gpu"], after.NoScaleUpNotified.Select(n => n.Owner));
        Assert.Equal(after.NoScaleUpNotified, untouched.NoScaleUpNotified);
    }

    [Fact]
    public void Recorded_ManyOwnersWithoutAHome_KeepsABoundedRecord()
    {
        var many = Enumerable.Range(0, 80).Select(i => Unhelpable($"shop/ReplicaSet/r{i}")).ToList();

        var after = FleetTransitions.Recorded(FleetState.Empty, new ScalingOutcome { Kind = OutcomeKind.NoScaleUpReported, At = Now, Summary = "s", NoScaleUp = many });

        Assert.Equal(FleetTransitions.MaxNoScaleUpNotices, after.NoScaleUpNotified.Count);
    }

    [Fact]
    public void LaunchReleased_ScaleUp_IsInFlightAndStampsTheScaleUpAtItsStart()
    {
        var launch = new InFlightLaunch { LaunchId = "c", StartedAt = Now, InstanceIds = ["i-c"] };

        var after = FleetTransitions.LaunchReleased(Before, launch);

        Assert.Equal(["a", "b", "c"], after.InFlight.Select(l => l.LaunchId));
        Assert.Equal(Now, after.LastScaleUpAt);
        Assert.Equal(Earlier, after.LastScaleDownAt);
    }

    [Theory]
    [InlineData(WorkflowRoute.Launch, true)]
    [InlineData(WorkflowRoute.Replace, false)]
    [InlineData(null, false)]
    public void ReleasesLeaseAtLaunch_Route_OnlyAScaleUp(WorkflowRoute? route, bool expected)
    {
        Assert.Equal(expected, FleetTransitions.ReleasesLeaseAtLaunch(route));
    }
}
