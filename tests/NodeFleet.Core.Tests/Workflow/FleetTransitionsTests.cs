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
}
