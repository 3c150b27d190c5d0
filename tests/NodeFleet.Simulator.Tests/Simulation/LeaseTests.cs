using System.Globalization;
using System.Text.RegularExpressions;
using NodeFleet.Simulator.Simulation;
using NodeFleet.Simulator.Traces;

namespace NodeFleet.Simulator.Tests.Simulation;

/// <summary>The lease as built now against the old model, and what starts executions, on small traces.</summary>
public class LeaseTests
{
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(4);

    /// <summary>Two small pods; at 10 minutes a first wave of six one-core pods, at 11 a second wave of six; both stay for an hour.</summary>
    private static Trace TwoWaves() => new("two-waves",
    [
        new TracePoint(TimeSpan.Zero, [Web, new DeploymentDemand("checkout", 0, 1000, 512, 550), new DeploymentDemand("cart", 0, 1000, 512, 550)]),
        new TracePoint(TimeSpan.FromMinutes(10), [Web, new DeploymentDemand("checkout", 6, 1000, 512, 550), new DeploymentDemand("cart", 0, 1000, 512, 550)]),
        new TracePoint(TimeSpan.FromMinutes(11), [Web, new DeploymentDemand("checkout", 6, 1000, 512, 550), new DeploymentDemand("cart", 6, 1000, 512, 550)]),
    ], TimeSpan.FromHours(1));

    /// <summary>
    /// Six pods of 1.5 cores from 10 to 40 minutes, eight small <c>side</c> pods from 20 minutes (one on every worker the
    /// sale added, two beside <c>web</c>): every drain after the sale evicts a pod, and with a pod that takes
    /// <see cref="SlowShutdown"/> to shut down the first one holds the lease past 48 minutes, when six more pods of 1.5 cores come.
    /// </summary>
    private static Trace RushDuringADrain() => new("rush",
    [
        new TracePoint(TimeSpan.Zero, [Web, Pods("sale", 0), Side(0), Pods("rush", 0)]),
        new TracePoint(TimeSpan.FromMinutes(10), [Web, Pods("sale", 6), Side(0), Pods("rush", 0)]),
        new TracePoint(TimeSpan.FromMinutes(20), [Web, Pods("sale", 6), Side(8), Pods("rush", 0)]),
        new TracePoint(TimeSpan.FromMinutes(40), [Web, Pods("sale", 0), Side(8), Pods("rush", 0)]),
        new TracePoint(TimeSpan.FromMinutes(48), [Web, Pods("sale", 0), Side(8), Pods("rush", 6)]),
    ], TimeSpan.FromHours(2));

    /// <summary>A pod that shuts down slowly (a long terminationGracePeriodSeconds): the drain waits for it, the lease held.</summary>
    private static readonly TimeSpan SlowShutdown = TimeSpan.FromMinutes(8);

    private static DeploymentDemand Side(int replicas) => new("side", replicas, 400, 256, 200);

    private static readonly DeploymentDemand Web = new("web", 2, 500, 256, 200);

    private static DeploymentDemand Pods(string name, int replicas) => new(name, replicas, 1500, 512, 900);

    private static (RunResult Result, List<string> Log) Run(Trace trace, SimulationOptions options, int seed = 1)
    {
        var log = new List<string>();
        var result = SimulationRunner.Run(trace, new NodeFleetStrategy(options, new Random(seed)) { Log = log.Add }, options);
        return (result, log);
    }

    private static List<TimeSpan> TimesOf(List<string> log, string what) =>
        log.Where(l => l.Contains(what, StringComparison.Ordinal)).Select(l => TimeSpan.Parse(l[11..19], CultureInfo.InvariantCulture)).ToList();

    [Fact]
    public void Run_SecondWaveDuringABoot_LaunchesBeforeTheFirstWavesNodesJoin()
    {
        var options = new SimulationOptions { BootDelayMean = Boot, BootDelaySpread = TimeSpan.Zero };

        var (_, log) = Run(TwoWaves(), options);

        // As built now the first launch releases the lease: the fast path launches for the second wave at once.
        var launches = TimesOf(log, " ScaleUp: ");
        Assert.Equal(2, launches.Count);
        Assert.True(launches[1] < launches[0] + Boot, string.Join(" | ", log));
        // The pods the launch in flight covers are subtracted: 3 of the first wave still wait, 4 fit the 2 nodes launching.
        Assert.Contains("9 unschedulable pod(s) need 3 more node(s) besides the 2 launching", log[1], StringComparison.Ordinal);
        Assert.All(log.Take(2), l => Assert.EndsWith("[fast path]", l, StringComparison.Ordinal));
    }

    [Fact]
    public void Run_SecondWaveDuringABoot_Before_WaitsForTheFirstWavesNodes()
    {
        // The old model at a schedule phase that sees the first wave alone (00:10:00, before the second at 00:11).
        var options = new SimulationOptions { BootDelayMean = Boot, BootDelaySpread = TimeSpan.Zero, ScheduleOffset = TimeSpan.Zero }.Before();

        var (_, log) = Run(TwoWaves(), options);

        var launches = TimesOf(log, " ScaleUp: ");
        Assert.Equal(2, launches.Count);
        Assert.True(launches[1] >= launches[0] + Boot, string.Join(" | ", log));
    }

    [Fact]
    public void Run_PendingPodsDuringADrain_PreemptTheDrainAndLaunchAtOnce()
    {
        var options = new SimulationOptions { PodShutdown = SlowShutdown };

        var (result, log) = Run(RushDuringADrain(), options);

        var drainStarted = TimesOf(log, " ScaleDown: ")[0];
        var preempted = Assert.Single(TimesOf(log, " preempted: "));
        var launch = TimesOf(log, " ScaleUp: ")[1];
        Assert.InRange(preempted, drainStarted, drainStarted + SlowShutdown);
        Assert.Equal(preempted, launch);
        Assert.InRange(launch - TimeSpan.FromMinutes(48), TimeSpan.Zero, TimeSpan.FromSeconds(27));
        // The preempted drain's node was kept: the first node to go after the rush is another one.
        var drained = Regex.Match(log.First(l => l.Contains(" ScaleDown: ", StringComparison.Ordinal)), @"Remove (ip-[0-9a-f]+)").Groups[1].Value;
        Assert.NotEmpty(drained);
        Assert.DoesNotContain(log.Skip(log.FindIndex(l => l.Contains(" preempted: ", StringComparison.Ordinal))), l => l.Contains(" ScaleDown: ", StringComparison.Ordinal) && l.Contains(drained, StringComparison.Ordinal));
        Assert.Contains(result.Executions, e => e.Trigger == "fast path" && e.Acted >= 2);
    }

    [Fact]
    public void Run_PendingPodsDuringADrain_Before_WaitForTheDrainToEnd()
    {
        var options = new SimulationOptions { PodShutdown = SlowShutdown }.Before();

        var (result, log) = Run(RushDuringADrain(), options);

        var drainStarted = TimesOf(log, " ScaleDown: ")[0];
        Assert.Empty(TimesOf(log, " preempted: "));
        Assert.True(TimesOf(log, " ScaleUp: ")[1] >= drainStarted + SlowShutdown, string.Join(" | ", log));
        Assert.Contains(result.Executions, e => e.Trigger == "schedule" && e.LeaseHeld > 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Run_ScheduleOnly_FirstWaveSeenWithinOneTick(int seed)
    {
        var options = new SimulationOptions { Detection = Detection.ScheduleOnly, RandomSeed = seed };

        var (_, log) = Run(TwoWaves(), options, seed);

        var first = TimesOf(log, " ScaleUp: ")[0];
        Assert.InRange(first - TimeSpan.FromMinutes(10), TimeSpan.Zero, options.NodeFleetTick);
        Assert.EndsWith("[schedule]", log[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Run_FastPath_FirstWaveSeenWithinScrapeEvaluationGroupWaitAndDelivery(int seed)
    {
        var options = new SimulationOptions { RandomSeed = seed };
        var bound = options.ScrapeInterval + options.RuleEvaluationInterval + options.FastPathGroupWait + options.FastPathDeliveryDelay;

        var (_, log) = Run(TwoWaves(), options, seed);

        var first = TimesOf(log, " ScaleUp: ")[0];
        Assert.InRange(first - TimeSpan.FromMinutes(10), options.FastPathGroupWait, bound);
        Assert.EndsWith("[fast path]", log[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Run_TwoWavesSameSeed_SameReport_OtherSeed_OtherPhases()
    {
        var trace = BuiltInTraces.Get("flash-sale-two-waves");
        string Json(int seed)
        {
            var options = new SimulationOptions { RandomSeed = seed };
            return Report.Json([SimulationRunner.Run(trace, new NodeFleetStrategy(options, new Random(seed)), options)]);
        }

        var first = Json(42);
        var again = Json(42);
        var other = Json(7);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Contains("\"wave 2\"", first, StringComparison.Ordinal);
    }
}
