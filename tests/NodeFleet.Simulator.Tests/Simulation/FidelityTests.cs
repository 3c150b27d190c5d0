using System.Globalization;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;
using NodeFleet.Simulator.Simulation;
using NodeFleet.Simulator.Traces;

namespace NodeFleet.Simulator.Tests.Simulation;

/// <summary>The simulator runs production's rules for what the cloud does not decide: the spot split, the fleet-state transitions, the drain's timings.</summary>
public class FidelityTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Two idle workers; at 10 minutes <paramref name="pods"/> pods of 1.5 cores (one per worker) for an hour.</summary>
    private static Trace Wave(int pods) => new("wave",
    [
        new TracePoint(TimeSpan.Zero, [new DeploymentDemand("sale", 0, 1500, 512, 900)]),
        new TracePoint(TimeSpan.FromMinutes(10), [new DeploymentDemand("sale", pods, 1500, 512, 900)]),
        new TracePoint(TimeSpan.FromMinutes(70), [new DeploymentDemand("sale", 0, 1500, 512, 900)]),
    ], TimeSpan.FromHours(2));

    /// <summary>
    /// <c>web</c> (two 0.5-core pods) and four 1-core <c>sale</c> pods: one beside web, two on the second worker, one on a
    /// third NodeFleet launches. At 40 minutes web ends: the first and the third worker hold one sale pod each, and
    /// the scale-down (allowed to fill a worker: target utilisation 100 %) drains one of them, evicting its pod to the other.
    /// </summary>
    private static Trace DrainWithAPod() => new("drain",
    [
        new TracePoint(TimeSpan.Zero, [new DeploymentDemand("web", 2, 500, 256, 200), new DeploymentDemand("sale", 0, 1000, 512, 200)]),
        new TracePoint(TimeSpan.FromMinutes(10), [new DeploymentDemand("web", 2, 500, 256, 200), new DeploymentDemand("sale", 4, 1000, 512, 200)]),
        new TracePoint(TimeSpan.FromMinutes(40), [new DeploymentDemand("web", 0, 500, 256, 200), new DeploymentDemand("sale", 4, 1000, 512, 200)]),
    ], TimeSpan.FromHours(1));

    private static SimulationOptions Exact => new() { Settings = ScalingSettings.Defaults with { Headroom = 0 } };

    private static List<IGrouping<DateTimeOffset, SimInstance>> Launches(RunResult result) =>
        result.Instances.GroupBy(i => i.LaunchedAt).ToList();

    private static TimeSpan At(string line) => TimeSpan.Parse(line[11..19], CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(2, 1, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(4, 3, 1)]
    public void Run_NodeFleetLaunch_SplitsSpotPerLaunchAsLaunchNodes(int nodes, int spot, int onDemand)
    {
        var options = Exact;

        var result = SimulationRunner.Run(Wave(nodes + 2), new NodeFleetStrategy(options, new Random(1)), options);

        // The two workers before the trace are a launch of two (one of each); the wave's launch is the split of its count.
        var launches = Launches(result);
        Assert.Equal([1, 1], [launches[0].Count(i => i.Capacity == CapacityType.Spot), launches[0].Count(i => i.Capacity == CapacityType.OnDemand)]);
        var wave = launches.Single(l => l.Key > Start);
        Assert.Equal(spot, wave.Count(i => i.Capacity == CapacityType.Spot));
        Assert.Equal(onDemand, wave.Count(i => i.Capacity == CapacityType.OnDemand));
    }

    [Fact]
    public void Run_SeedLaunches_FollowTheSameSplitAtSeventyPercent()
    {
        var options = new SimulationOptions();

        var result = SimulationRunner.Run(Wave(8), new SeedStrategy(options, new Random(1)), options);

        var launches = Launches(result);
        Assert.True(launches.Count >= 3, $"{launches.Count} launches");
        Assert.All(launches, l => Assert.Equal(CapacitySplit.SpotCount(l.Count(), SeedStrategy.SpotShare), l.Count(i => i.Capacity == CapacityType.Spot)));
        Assert.Contains(result.Instances, i => i.Capacity == CapacityType.Spot);
    }

    [Fact]
    public void Run_EveryScaleUp_StampsTheScaleUpAtItsLaunch_AsReleaseAfterLaunchDoes()
    {
        var options = new SimulationOptions();
        var stamps = new List<(string Line, DateTimeOffset? LastScaleUpAt, int InFlight)>();
        NodeFleetStrategy? strategy = null;
        strategy = new NodeFleetStrategy(options, new Random(1))
        {
            Log = line => stamps.Add((line, strategy!.Fleet.LastScaleUpAt, strategy.Fleet.InFlight.Count)),
        };

        SimulationRunner.Run(BuiltInTraces.Get("flash-sale-two-waves"), strategy, options);

        var scaleUps = stamps.Where(s => s.Line.Contains(" ScaleUp: ", StringComparison.Ordinal)).ToList();
        Assert.True(scaleUps.Count >= 2, string.Join(" | ", stamps.Select(s => s.Line)));
        Assert.All(scaleUps, s =>
        {
            Assert.Equal(s.Line[..19], s.LastScaleUpAt?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            Assert.True(s.InFlight >= 1, s.Line);
        });
    }

    [Fact]
    public void Run_Replacement_KeepsTheLeaseWhileItBoots_AndStampsNoScaleUpAtLaunch()
    {
        // LaunchNodes on the Replace route records the launch (RecordLaunchAsync: LaunchStarted) and keeps the lease.
        var options = new SimulationOptions { SpotInterruptionsPerNodeDay = 24, SpotShare = 1 };
        var steady = new Trace("steady", [new TracePoint(TimeSpan.Zero, [new DeploymentDemand("web", 4, 1500, 512, 900)])], TimeSpan.FromHours(6));
        var replacements = new List<(string Line, DateTimeOffset? LastScaleUpAt, int InFlight)>();
        NodeFleetStrategy? strategy = null;
        strategy = new NodeFleetStrategy(options, new Random(1))
        {
            Log = line => replacements.Add((line, strategy!.Fleet.LastScaleUpAt, strategy.Fleet.InFlight.Count)),
        };

        var result = SimulationRunner.Run(steady, strategy, options);

        var replaced = replacements.Where(r => r.Line.Contains(" Replace: ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(replaced);
        Assert.All(replaced, r =>
        {
            Assert.NotEqual(r.Line[..19], r.LastScaleUpAt?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            Assert.True(r.InFlight >= 1, r.Line);
        });
        Assert.Contains(result.Executions, e => e.Trigger == "interruption" && e.Acted == replaced.Count);
    }

    [Theory]
    [InlineData(30, 40)]
    [InlineData(40, 40)]
    [InlineData(45, 60)]
    [InlineData(5, 20)]
    public void Run_DrainOfANodeWithAPod_EndsAtTheFirstPollAfterThePodShutDown(int shutdownSeconds, int drainedAfterSeconds)
    {
        var options = Exact with
        {
            PodShutdown = TimeSpan.FromSeconds(shutdownSeconds),
            Settings = Exact.Settings with { ScaleUpCpuThreshold = 1, ScaleUpMemoryThreshold = 1, TargetUtilization = 1 },
        };
        var log = new List<string>();

        var result = SimulationRunner.Run(DrainWithAPod(), new NodeFleetStrategy(options, new Random(1)) { Log = log.Add }, options);

        var drainStarted = At(Assert.Single(log, l => l.Contains(" ScaleDown: ", StringComparison.Ordinal)));
        var drained = Assert.Single(result.Instances, i => i.TerminatedAt is not null);
        // The log has whole seconds; executions start at any fraction of one.
        Assert.InRange(drained.TerminatedAt!.Value - Start - drainStarted - options.DrainEndLatency, TimeSpan.FromSeconds(drainedAfterSeconds), TimeSpan.FromSeconds(drainedAfterSeconds + 1));
        // The evicted pod went to the other worker at once: no pod waited after the wave.
        Assert.Equal(0, result.Timeline.Where(p => p.Minute >= 40).Sum(p => p.PendingPods));
    }

    [Fact]
    public void Run_DrainOfAnEmptyNode_EndsWithinSeconds()
    {
        var options = new SimulationOptions();
        var log = new List<string>();

        var result = SimulationRunner.Run(SimulationRunnerTests.Spike(), new NodeFleetStrategy(options, new Random(1)) { Log = log.Add }, options);

        var drains = log.Where(l => l.Contains(" ScaleDown: ", StringComparison.Ordinal)).Select(At).ToList();
        Assert.NotEmpty(drains);
        Assert.All(drains, at => Assert.Contains(result.Instances, i => i.TerminatedAt - Start - at - options.DrainEndLatency is { } late && late >= TimeSpan.Zero && late < TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Evict_NodeWithPods_CordonsIt_AndTheirReplacementsLandElsewhereAtOnce()
    {
        var trace = new Trace("two", [new TracePoint(TimeSpan.Zero, [new DeploymentDemand("web", 2, 500, 256, 200)])], TimeSpan.FromHours(1));
        var cluster = new VirtualCluster(trace, Start);
        var workers = cluster.Launch(2, 0.7, () => TimeSpan.Zero);
        cluster.AdvanceTo(Start);
        var loaded = cluster.Snapshot(ScalingSettings.Defaults).Nodes.Single(n => n.Requested.Pods == 2);

        var evicted = cluster.Evict(loaded.InstanceId!);

        Assert.Equal(2, evicted);
        Assert.Equal(0, cluster.UnschedulablePods);
        var nodes = cluster.Snapshot(ScalingSettings.Defaults).Nodes.Where(n => n.Managed).ToList();
        Assert.True(nodes.Single(n => n.InstanceId == loaded.InstanceId).Unschedulable);
        Assert.Equal(0, nodes.Single(n => n.InstanceId == loaded.InstanceId).Requested.Pods);
        Assert.Equal(2, nodes.Single(n => n.InstanceId != loaded.InstanceId).Requested.Pods);
        Assert.All(workers, w => Assert.True(w.Running));
    }

    [Fact]
    public void Interrupted_SpotWarning_EvictsAtOnceAndTheInstanceRunsUntilEC2TakesIt()
    {
        // Two workers hold four 1-core pods; at 10 minutes the spot worker gets its two-minute warning.
        var trace = new Trace("steady", [new TracePoint(TimeSpan.Zero, [new DeploymentDemand("web", 4, 1000, 512, 500)])], TimeSpan.FromMinutes(30));
        var options = Exact with { SpotInterruptionsPerNodeDay = 0 };
        var cluster = new VirtualCluster(trace, Start);
        var strategy = new NodeFleetStrategy(options, new Random(1));
        strategy.Prepare(cluster);
        cluster.AdvanceTo(Start.AddMinutes(10));
        var spot = cluster.Instances.Single(i => i.Capacity == CapacityType.Spot);

        strategy.Interrupted(cluster, spot);

        // DrainInterrupted cordoned it and evicted its pods (pending now, or placed elsewhere); EC2, not the policy, ends the instance.
        var node = cluster.Snapshot(options.Settings).Nodes.Single(n => n.InstanceId == spot.Id);
        Assert.True(node.Unschedulable);
        Assert.Equal(0, node.Requested.Pods);
        Assert.True(spot.Running);
        Assert.Equal(1, strategy.Replacements);
    }

    /// <summary>One 0.5-core pod, then one more at each of <paramref name="arrivals"/> (minutes), on two idle workers, sampled every 15 s for 31 minutes.</summary>
    private static VirtualCluster Arriving(int[] arrivals, long useMillisPerPod = 200)
    {
        var points = new List<TracePoint> { new(TimeSpan.Zero, [new DeploymentDemand("web", 1, 500, 256, useMillisPerPod)]) };
        points.AddRange(arrivals.Select((minute, i) => new TracePoint(TimeSpan.FromMinutes(minute), [new DeploymentDemand("web", i + 2, 500, 256, useMillisPerPod)])));
        var cluster = new VirtualCluster(new Trace("arrivals", points, TimeSpan.FromHours(1)), Start);
        cluster.Launch(2, 0.7, () => TimeSpan.Zero);
        for (var at = Start; at <= Start.AddMinutes(31); at += TimeSpan.FromSeconds(15))
        {
            cluster.AdvanceTo(at);
        }

        return cluster;
    }

    [Theory]
    [InlineData(new[] { 2, 9, 17, 24 }, 4)] // one arrival in each quarter of the 30-minute headroom window: a trend
    [InlineData(new[] { 20, 21 }, 1)]       // two arrivals a minute apart: one step, as a burst arrives
    [InlineData(new[] { 5, 20 }, 2)]        // two quarters apart
    public void Snapshot_RequestsRisingInSteps_CountsTheQuartersThatRoseAsTheQueryDoes(int[] arrivals, int quarters)
    {
        var snapshot = Arriving(arrivals).Snapshot(ScalingSettings.Defaults);

        Assert.Equal(quarters, snapshot.RequestedCpuRisingQuarters);
        Assert.Equal(500 * arrivals.Length, snapshot.RequestedCpuRise);
    }

    [Fact]
    public void Snapshot_PredictiveHorizonSet_ExtrapolatesTheRisingCpuAsPredictLinearDoes()
    {
        var settings = ScalingSettings.Defaults with { PredictiveHorizon = TimeSpan.FromMinutes(10), PredictiveLookback = TimeSpan.FromMinutes(20) };

        var rising = Arriving([12, 16, 20, 24, 28], useMillisPerPod: 400).Snapshot(settings);
        var flat = Arriving([], useMillisPerPod: 400).Snapshot(settings);

        Assert.True(rising.PredictedCpuUtilization > rising.Utilization.CpuNow, $"predicted {rising.PredictedCpuUtilization} against {rising.Utilization.CpuNow} now");
        Assert.Equal(flat.Utilization.CpuNow!.Value, flat.PredictedCpuUtilization!.Value, 6);
        Assert.Null(Arriving([]).Snapshot(ScalingSettings.Defaults).PredictedCpuUtilization);
    }
}
