using NodeFleet.Simulator.Simulation;
using NodeFleet.Simulator.Traces;

namespace NodeFleet.Simulator.Tests.Simulation;

public class SimulationRunnerTests
{
    private static readonly SimulationOptions Options = new();

    /// <summary>Two small pods, then at 10 minutes six pods of 1.5 cores (one per worker) for an hour, then two hours quiet.</summary>
    internal static Trace Spike() => new("spike",
    [
        new TracePoint(TimeSpan.Zero, [new DeploymentDemand("web", 2, 500, 256, 200), new DeploymentDemand("sale", 0, 1500, 512, 900)]),
        new TracePoint(TimeSpan.FromMinutes(10), [new DeploymentDemand("web", 2, 500, 256, 200), new DeploymentDemand("sale", 6, 1500, 512, 900)]),
        new TracePoint(TimeSpan.FromMinutes(70), [new DeploymentDemand("web", 2, 500, 256, 200), new DeploymentDemand("sale", 0, 1500, 512, 900)]),
    ], TimeSpan.FromHours(3));

    private static RunResult NodeFleet(Trace trace, SimulationOptions? options = null) =>
        SimulationRunner.Run(trace, new NodeFleetStrategy(options ?? Options, new Random((options ?? Options).RandomSeed)), options ?? Options);

    private static RunResult Seed(Trace trace) => SimulationRunner.Run(trace, new SeedStrategy(Options, new Random(Options.RandomSeed)), Options);

    [Fact]
    public void Run_PendingPodLaunch_StampsTheScaleUpCooldownWhenItsNodesJoin_AsProductionDoes()
    {
        // Six pods arrive for two minutes only: a pending-pod launch asks for no cooldown, but its
        // outcome (ScaledUp) stamps the scale-up cooldown once the nodes join, and no scale-down
        // may follow for scaleUpCooldown after that (FleetTransitions, as UpdateState records it).
        var blip = new Trace("blip",
        [
            new TracePoint(TimeSpan.Zero, [new DeploymentDemand("web", 2, 500, 256, 200), new DeploymentDemand("sale", 0, 1500, 512, 900)]),
            new TracePoint(TimeSpan.FromMinutes(10), [new DeploymentDemand("web", 2, 500, 256, 200), new DeploymentDemand("sale", 6, 1500, 512, 900)]),
            new TracePoint(TimeSpan.FromMinutes(12), [new DeploymentDemand("web", 2, 500, 256, 200), new DeploymentDemand("sale", 0, 1500, 512, 900)]),
        ], TimeSpan.FromHours(1));
        var options = Options with { Settings = Options.Settings with { ScaleUpCooldown = TimeSpan.FromMinutes(10) } };
        var log = new List<string>();

        SimulationRunner.Run(blip, new NodeFleetStrategy(options, new Random(options.RandomSeed)) { Log = log.Add }, options);

        var firstDown = log.First(l => l.Contains(" ScaleDown: ", StringComparison.Ordinal));
        var downAt = TimeSpan.Parse(firstDown[11..19], System.Globalization.CultureInfo.InvariantCulture);
        var earliestJoin = TimeSpan.FromMinutes(10) + options.BootDelayMean / 2; // boot delays are clamped to half the mean at least
        Assert.True(downAt >= earliestJoin + options.Settings.ScaleUpCooldown, $"scale-down at {downAt}: {string.Join(" | ", log)}");
    }

    [Fact]
    public void Run_SameSeed_SameResults()
    {
        var options = Options with { SpotInterruptionsPerNodeDay = 2 };

        var first = Report.Json([NodeFleet(Spike(), options), Seed(Spike())]);
        var second = Report.Json([NodeFleet(Spike(), options), Seed(Spike())]);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Run_OtherSeed_OtherBootDelays()
    {
        var first = NodeFleet(Spike());
        var second = NodeFleet(Spike(), Options with { RandomSeed = 7 });

        Assert.NotEqual(first.PendingPodMinutes, second.PendingPodMinutes);
    }

    [Fact]
    public void Run_NodeFleetOnASpike_LaunchesWhatThePodsNeedInOneAction()
    {
        var log = new List<string>();
        var result = SimulationRunner.Run(Spike(), new NodeFleetStrategy(Options, new Random(Options.RandomSeed)) { Log = log.Add }, Options);

        // The scheduler fits first: both small pods share the first worker, so one 1.5-core pod fits
        // on the existing workers and five wait. One scale-up adds exactly five, started by the fast
        // path within a scrape, an evaluation, group_wait and the delivery (27 s) of 00:10; after the
        // spike, the five empty workers leave together in one scale-down, back to the minimum.
        Assert.Matches(@"^2026-11-02 00:10:([01][0-9]|2[0-7]) ScaleUp: Scale up by 5: 5 unschedulable pod\(s\) need 5 more node\(s\).*\[fast path\]$", log[0]);
        Assert.Equal(7, result.Timeline.Max(p => p.Nodes));
        Assert.Contains(result.Timeline, p => p.Minute is > 12 and < 20 && p.Nodes == 7);
        Assert.Contains(log, l => l.Contains(" ScaleDown: ", StringComparison.Ordinal) && l.Contains("and 4 other empty workers", StringComparison.Ordinal));
        Assert.Single(log, l => l.Contains(" ScaleDown: ", StringComparison.Ordinal));
        // Pods wait for the fast path (under 30 s) plus a boot (~90 s, at most twice that).
        Assert.InRange(result.WaitP95Seconds, 45, 210);
        Assert.Equal(2, result.Timeline[^1].Nodes);
    }

    [Fact]
    public void Run_SeedOnASpike_AddsAtMostTwoEveryFiveMinutes_AndPodsWaitLonger()
    {
        var seed = Seed(Spike());
        var ours = NodeFleet(Spike());

        var sixAt = seed.Timeline.First(p => p.Nodes == 6).Minute;
        // Four pods wait (two fit beside the small ones; four are not "more than 5"): three readings
        // (minutes 10-12), then +1 at 12, 17, 22 and 27, five minutes apart.
        Assert.Equal(27, sixAt);
        Assert.True(seed.PendingPodMinutes > 2 * ours.PendingPodMinutes, $"seed {seed.PendingPodMinutes:0.0} vs NodeFleet {ours.PendingPodMinutes:0.0} pending pod-minutes");
    }

    [Fact]
    public void Oracle_Spike_NeedsExactlyTheBinsAndNeverWaits()
    {
        var oracle = SimulationRunner.Oracle(Spike(), Options);

        Assert.Equal(0, oracle.PendingPodMinutes);
        Assert.Equal(6, oracle.Timeline.Max(p => p.Nodes));
        // 2 workers for 3 h, 4 more for the hour of the spike, each billed one 90-second boot early.
        Assert.Equal((2 * 3) + 4 + (4 * 90 / 3600.0), oracle.NodeHours, 2);
    }

    [Fact]
    public void Run_SpotInterruptions_NodeFleetReplacesEachAtOnce()
    {
        var options = Options with { SpotInterruptionsPerNodeDay = 24, SpotShare = 1 };
        var steady = new Trace("steady", [new TracePoint(TimeSpan.Zero, [new DeploymentDemand("web", 4, 1500, 512, 900)])], TimeSpan.FromHours(6));

        var result = SimulationRunner.Run(steady, new NodeFleetStrategy(options, new Random(1)), options);

        // About one interruption per node-hour: each is a replacement launched at once, so a
        // displaced pod waits about one boot, and the fleet ends at the four the pods need.
        Assert.True(result.Replacements > 10, $"{result.Replacements} replacements");
        Assert.True(result.ScaleActions < result.Replacements, $"{result.ScaleActions} scale actions beside the replacements: EC2 forced those");
        Assert.InRange(result.WaitP95Seconds, 30, 240);
        Assert.Equal(4, result.Timeline[^1].Nodes);
    }
}
