using NodeFleet.Simulator.Simulation;
using NodeFleet.Simulator.Traces;

namespace NodeFleet.Simulator.Tests.Simulation;

/// <summary>The oracle and the reactive bound against the policies on every built-in trace, at three seeds (a week of load takes a few seconds).</summary>
public class BoundsTests
{
    private static readonly int[] Seeds = [42, 7, 99];

    public static TheoryData<string, int> TracesAndSeeds()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in BuiltInTraces.Names)
        {
            foreach (var seed in Seeds)
            {
                data.Add(name, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TracesAndSeeds))]
    public void Oracle_BuiltInTrace_IsALowerBoundForEveryMomentNoPodWaits(string name, int seed)
    {
        var options = new SimulationOptions { RandomSeed = seed };
        var trace = BuiltInTraces.Get(name);

        var oracle = SimulationRunner.Oracle(trace, options);
        var policies = new[]
        {
            SimulationRunner.Run(trace, new NodeFleetStrategy(options, new Random(seed)), options),
            SimulationRunner.Run(trace, new SeedStrategy(options, new Random(seed)), options),
        };

        // Whenever a policy had every pod placed, it ran at least the oracle's workers.
        var needed = oracle.Timeline.ToDictionary(p => p.Minute, p => p.Nodes);
        Assert.All(policies.SelectMany(p => p.Timeline.Select(t => (p.Policy, t))).Where(x => x.t.PendingPods == 0), x =>
            Assert.True(x.t.Nodes >= needed[x.t.Minute], $"{x.Policy} ran {x.t.Nodes} workers at minute {x.t.Minute} with no pod waiting; the oracle needs {needed[x.t.Minute]}"));
        // And the oracle is a real count, not an underestimate: never below the cores requested.
        Assert.All(oracle.Timeline, p => Assert.True(p.Nodes * 2.0 >= p.DemandCores, $"minute {p.Minute}: {p.Nodes} workers for {p.DemandCores} cores"));
        Assert.Equal(0, oracle.PendingPodMinutes);
    }

    [Theory]
    [MemberData(nameof(TracesAndSeeds))]
    public void Reactive_BuiltInTrace_IsALowerBoundOnWaitingForAPolicyThatLaunchesOnlyForPendingPods(string name, int seed)
    {
        // NodeFleet with nothing speculative (no headroom, no CPU or memory rule) and boots of exactly the mean.
        var options = new SimulationOptions { RandomSeed = seed, BootDelaySpread = TimeSpan.Zero };
        options = options with { Settings = options.Settings with { Headroom = 0, ScaleUpCpuThreshold = 1.0, ScaleUpMemoryThreshold = 1.0 } };
        var trace = BuiltInTraces.Get(name);

        var reactive = SimulationRunner.Reactive(trace, options);
        var nodeFleet = SimulationRunner.Run(trace, new NodeFleetStrategy(options, new Random(seed)), options);

        Assert.True(nodeFleet.PendingPodMinutes >= reactive.PendingPodMinutes - 1e-9,
            $"NodeFleet waited {nodeFleet.PendingPodMinutes:0.0} pod-minutes, under the reactive bound's {reactive.PendingPodMinutes:0.0}");
    }

    public static TheoryData<string> Traces() => new(BuiltInTraces.Names);

    [Theory]
    [MemberData(nameof(Traces))]
    public void Reactive_BuiltInTrace_NoPodWaitsLongerThanOneBootAndAStep(string name)
    {
        var options = new SimulationOptions();

        var reactive = SimulationRunner.Reactive(BuiltInTraces.Get(name), options);

        var longest = reactive.PodWaits.DefaultIfEmpty(0).Max();
        Assert.True(longest <= (options.BootDelayMean + options.Step).TotalSeconds, $"a pod of the reactive bound waited {longest} s");
    }

    [Fact]
    public void Reactive_Spike_LaunchesWhatThePodsNeedAtOnce_EachPendingPodWaitsOneBoot()
    {
        var options = new SimulationOptions();

        var reactive = SimulationRunner.Reactive(SimulationRunnerTests.Spike(), options);

        // At 10 minutes the 2 workers take two sale pods and, repacked, the two small pods beside them: 4 pending, 4 nodes
        // launched (6 bins), joined at 11:30.
        Assert.Equal(4 * 1.5, reactive.PendingPodMinutes, 6);
        Assert.Equal(Enumerable.Repeat(90.0, 4), reactive.PodWaits);
        // 2 workers for 3 h, 4 more from 10 to 70 minutes (launch to release); one launch, one release.
        Assert.Equal((2 * 3) + 4, reactive.NodeHours, 6);
        Assert.Equal(2, reactive.ScaleActions);
        Assert.Equal(6, reactive.Timeline.Max(p => p.Nodes));
    }

    [Fact]
    public void Reactive_WaveBesideRunningPods_CountsOnlyThePodsThatDoNotFit()
    {
        // Six 0.5-core pods run on two workers; six 1-core pods come: the workers' free core takes one, five pend (not the
        // eight that land in new bins when first-fit-decreasing puts the big pods first).
        var trace = new Trace("beside",
        [
            new TracePoint(TimeSpan.Zero, [new DeploymentDemand("shop", 6, 500, 256, 200), new DeploymentDemand("checkout", 0, 1000, 256, 500)]),
            new TracePoint(TimeSpan.FromMinutes(10), [new DeploymentDemand("shop", 6, 500, 256, 200), new DeploymentDemand("checkout", 6, 1000, 256, 500)]),
        ], TimeSpan.FromHours(1));

        var reactive = SimulationRunner.Reactive(trace, new SimulationOptions());

        Assert.Equal(Enumerable.Repeat(90.0, 5), reactive.PodWaits);
        Assert.Equal(5 * 1.5, reactive.PendingPodMinutes, 6);
    }
}
