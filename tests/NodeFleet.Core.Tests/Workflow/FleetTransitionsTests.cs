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
    public void Recorded_EachOutcome_StampsItsCooldownOnly(OutcomeKind kind, bool scaleUp, bool scaleDown)
    {
        var after = FleetTransitions.Recorded(Before, new ScalingOutcome { Kind = kind, At = Now, Summary = "s" });

        Assert.Equal(scaleUp ? Now : Earlier, after.LastScaleUpAt);
        Assert.Equal(scaleDown ? Now : Earlier, after.LastScaleDownAt);
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
}
